//! The JSON schema: the dict Python builds reads straight in, and every
//! bad key or value is an error naming its key.

use super::*;

/// The dict `training/fit.py::train_config` builds, as json.dumps writes it.
const PYTHON: &str = r#"{"loss": "mse", "reduction": "mean", "batch_size": 4, "shuffle": true, "seed": 0, "optimizer": {"mu": 0.9, "name": "momentum"}, "learning_rate": 0.1, "schedule": null, "momentum_annealing": null, "safeguards": {"clip_deltas": [100.0, 10.0], "gradient_scale": null, "gradient_boost": null, "weight_cap": null, "l1": 0.0, "l2": 0.0, "dropout": 0.0}, "non_finite": "fail"}"#;

fn error(text: &str) -> String {
    match TrainConfig::from_json(text).and_then(|c| c.validate()) {
        Err(Error::Config(m)) => m,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[test]
fn reads_what_python_writes() {
    let c = TrainConfig::from_json(PYTHON).unwrap();
    assert_eq!(c.loss, Loss::Mse);
    assert_eq!(c.optimizer, Optimizer::Momentum { mu: 0.9 });
    assert_eq!(c.schedule, Schedule::Constant);
    assert_eq!(c.safeguards.clip_deltas, Some((100.0, 10.0)));
    assert_eq!((c.truncate, c.non_finite), (None, NonFinite::Fail));
    c.validate().unwrap();
    let adam = PYTHON.replace(
        r#"{"mu": 0.9, "name": "momentum"}"#,
        r#"{"beta1": 0.9, "beta2": 0.999, "eps": 1e-08, "bias_correction": true, "name": "adam"}"#,
    );
    assert!(matches!(TrainConfig::from_json(&adam).unwrap().optimizer, Optimizer::Adam { .. }));
    let step = PYTHON.replace(r#""schedule": null"#, r#""schedule": {"every": 5, "factor": 0.5, "name": "step"}"#);
    assert_eq!(TrainConfig::from_json(&step).unwrap().schedule, Schedule::Step { every: 5, factor: 0.5 });
}

#[test]
fn type_errors_name_the_key() {
    let m = error(&PYTHON.replace(r#""l1": 0.0"#, r#""l1": "a""#));
    assert!(m.contains("safeguards.l1: invalid type"), "{m}");
    let m = error(&PYTHON.replace(r#""batch_size": 4"#, r#""batch_size": -1"#));
    assert!(m.contains("batch_size: invalid value"), "{m}");
    let m = error(&PYTHON.replace(r#""mu": 0.9"#, r#""muu": 0.9"#));
    assert!(m.contains("optimizer") && m.contains("muu"), "{m}");
    let m = error(&PYTHON.replace(r#""name": "momentum""#, r#""name": "adamw""#));
    assert!(m.contains("optimizer.name: unknown variant `adamw`"), "{m}");
    let m = error(&PYTHON.replace(r#""non_finite": "fail""#, r#""non_finite": "retry""#));
    assert!(m.contains("non_finite: unknown variant `retry`") && m.contains("rollback"), "{m}");
    let m = error(&PYTHON.replace(r#""loss": "mse""#, r#""loss": "l3""#));
    assert!(m.contains("loss: unknown loss \"l3\"; expected one of l1, l2"), "{m}");
}

#[test]
fn problems_keep_the_key_apart() {
    let problem = |from: &str, to: &str| TrainConfig::check_json(&PYTHON.replace(from, to)).unwrap_err();
    let p = problem(r#""l1": 0.0"#, r#""l1": -1"#);
    assert_eq!((p.key.as_str(), p.problem.as_str()), ("safeguards.l1", "must be a finite number >= 0, got -1"));
    let p = problem(r#""dropout": 0.0"#, r#""dropout": true"#);
    assert_eq!(p.key, "safeguards.dropout");
    assert!(p.problem.starts_with("invalid type: boolean `true`"), "{}", p.problem);
    let p = problem(r#""gradient_scale": null"#, r#""gradient_scale": NaN"#);
    assert_eq!((p.key.as_str(), p.problem.as_str()), ("safeguards.gradient_scale", "must be a finite number, got NaN"));
    let p = problem(r#""learning_rate": 0.1"#, r#""learning_rate": -Infinity"#);
    assert_eq!((p.key.as_str(), p.problem.as_str()), ("learning_rate", "must be a finite number, got Infinity"));
    assert!(TrainConfig::check_json(PYTHON).is_ok());
}

#[test]
fn value_errors_name_the_key() {
    for (from, to, want) in [
        (
            r#""gradient_scale": null"#,
            r#""gradient_scale": -1"#,
            "safeguards.gradient_scale must be a positive number, got -1",
        ),
        (r#""dropout": 0.0"#, r#""dropout": 1.0"#, "safeguards.dropout must be in [0, 1), got 1"),
        (r#""l2": 0.0"#, r#""l2": -0.5"#, "safeguards.l2 must be a finite number >= 0, got -0.5"),
        (r#""clip_deltas": [100.0, 10.0]"#, r#""clip_deltas": [0, 1]"#, "safeguards.clip_deltas must be two positive"),
        (r#""learning_rate": 0.1"#, r#""learning_rate": 0"#, "learning_rate must be a positive number, got 0"),
        (r#""mu": 0.9"#, r#""mu": 1.5"#, "optimizer.mu must satisfy 0 <= mu < 1"),
        (r#""seed": 0"#, r#""seed": 0, "truncate": 0"#, "truncate must be a number of steps >= 1"),
        (r#""schedule": null"#, r#""schedule": {"every": 0, "factor": 0.5, "name": "step"}"#, "schedule.every must be"),
        (
            r#""momentum_annealing": null"#,
            r#""momentum_annealing": {"start": 0.5, "end": 1.0, "epochs": 3}"#,
            "momentum_annealing.end must satisfy",
        ),
    ] {
        let m = error(&PYTHON.replace(from, to));
        assert!(m.contains(want), "{to}: {m}");
    }
}
