"""The graph API: a network as an explicit graph of nodes and edges
(:mod:`.graph`: building and querying; :mod:`.maps`: feature maps, filters
and pooling for convolutional networks)."""

from .graph import Graph

__all__ = ["Graph"]
