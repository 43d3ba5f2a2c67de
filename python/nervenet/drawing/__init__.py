"""Drawing a graph: :func:`to_dot` writes Graphviz DOT text,
:func:`draw_graph` draws with matplotlib (imported on first use). Both
place nodes by topological level (inputs left, outputs right), show node
kinds by shape and colour, and draw recurrent edges dashed with their skip
``t-k``; they work on any :class:`nervenet.Graph`, valid or not.
``Graph.to_dot()`` and ``Graph.draw()`` call them.

>>> import nervenet as nv
>>> g = nv.random_graph(2, 4, 1, recurrent=2, max_skip=3, seed=1)
>>> print(nv.drawing.to_dot(g).count(" -> "), g.num_edges)
13 13
"""

from .dot import to_dot
from .plot import draw_graph

__all__ = ["to_dot", "draw_graph"]
