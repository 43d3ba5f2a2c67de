//! The thread pool the executor runs on. Its size comes from
//! `set_num_threads(n)` or the environment variable NERVENET_NUM_THREADS
//! (default: all cores). Work is split into pieces whose boundaries never
//! depend on the thread count, so results are identical for any size.

use crate::bail;
use crate::error::Result;
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Jobs handed to the pool so far: tests assert that a run they compare
/// across thread counts did use it.
static POOL_RUNS: AtomicUsize = AtomicUsize::new(0);

/// How many times work has been handed to the pool (see [`POOL_RUNS`]).
#[doc(hidden)]
pub fn pool_runs() -> usize {
    POOL_RUNS.load(Ordering::Relaxed)
}

pub const ENV_VAR: &str = "NERVENET_NUM_THREADS";

struct PoolState {
    threads: usize,
    pool: Option<Arc<rayon::ThreadPool>>,
}

static STATE: Mutex<Option<PoolState>> = Mutex::new(None);

fn default_threads() -> usize {
    std::env::var(ENV_VAR)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}

fn with_state<R>(f: impl FnOnce(&mut PoolState) -> R) -> R {
    let mut guard = STATE.lock().unwrap_or_else(|e| e.into_inner());
    let state = guard.get_or_insert_with(|| PoolState { threads: default_threads(), pool: None });
    f(state)
}

/// Threads compute will use.
pub fn num_threads() -> usize {
    with_state(|s| s.threads)
}

/// Sets the number of compute threads (≥ 1).
pub fn set_num_threads(n: usize) -> Result<()> {
    if n == 0 {
        bail!(Config, "number of threads must be at least 1, got 0");
    }
    with_state(|s| {
        if s.threads != n {
            s.threads = n;
            s.pool = None;
        }
    });
    Ok(())
}

/// The pool, or None when compute runs on the calling thread only.
fn pool() -> Result<Option<Arc<rayon::ThreadPool>>> {
    with_state(|s| {
        if s.threads <= 1 {
            return Ok(None);
        }
        if s.pool.is_none() {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(s.threads)
                .thread_name(|i| format!("nervenet-{i}"))
                .build()
                .map_err(|e| crate::Error::Config(format!("cannot start {} threads: {e}", s.threads)))?;
            s.pool = Some(Arc::new(pool));
        }
        Ok(s.pool.clone())
    })
}

/// Runs `f` on every item, in parallel when allowed and useful. Items are
/// independent, so the outcome never depends on the schedule.
pub fn for_each_mut<I: Send>(items: &mut [I], parallel: bool, f: impl Fn(&mut I) + Sync + Send) -> Result<()> {
    let pool = if parallel && items.len() > 1 { pool()? } else { None };
    match pool {
        Some(pool) => {
            POOL_RUNS.fetch_add(1, Ordering::Relaxed);
            pool.install(|| items.par_iter_mut().for_each(f))
        }
        None => items.iter_mut().for_each(f),
    }
    Ok(())
}

/// Maps `0..n` to results in index order, in parallel when allowed.
pub fn map_indices<R: Send>(n: usize, parallel: bool, f: impl Fn(usize) -> R + Sync + Send) -> Result<Vec<R>> {
    let pool = if parallel && n > 1 { pool()? } else { None };
    Ok(match pool {
        Some(pool) => {
            POOL_RUNS.fetch_add(1, Ordering::Relaxed);
            pool.install(|| (0..n).into_par_iter().map(f).collect())
        }
        None => (0..n).map(f).collect(),
    })
}
