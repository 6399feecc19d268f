"""See the chain rule: recorded graphs, their pictures, and forward/backward trace tables.

`trace(f, *args)` records one run of f as a `Graph` (values, tangents, adjoints, tables,
pictures); `draw(tensor)` pictures the operations behind a Tensor; `scope(name)` groups steps
so large graphs stay readable.
"""

from chainrule.viz.draw import draw
from chainrule.viz.graph import Constant, Graph, Vertex
from chainrule.viz.record import scope, trace

__all__ = ["trace", "draw", "scope", "Graph", "Vertex", "Constant"]
