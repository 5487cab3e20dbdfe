"""The overlay as the peers' logs describe it: a peer's links replayed from its neighbour_up /
neighbour_down lines, and the graph facts the system tests and the benchmarks check (one-sided links,
connected components, hop distances). Pure functions over parsed lines and {address: set(addresses)}.

Not the aggregator's "overlay at the end" (aggregate_analysis.py), which also allows for restarts, pauses
and the final teardown.
"""

from collections import deque

from toolkit.timestamps import parse_ts


def links(lines, before_us=None):
    """The neighbours left after replaying the neighbour_up / neighbour_down lines of one peer's parsed log
    (only those stamped before before_us, when given)."""
    cur = set()
    for line in lines:
        event = line.get("event")
        if event in ("neighbour_up", "neighbour_down") and (before_us is None or parse_ts(line["ts"]) < before_us):
            (cur.add if event == "neighbour_up" else cur.discard)(line["peer"])
    return cur


def one_sided(graph):
    """Links one end lists and the other does not: [(a, b)] where b in graph[a] but a not in graph[b]."""
    return [(a, b) for a, nb in graph.items() for b in nb if a not in graph.get(b, ())]


def components(graph):
    """The connected components (sets of addresses) among graph's keys."""
    seen, comps = set(), []
    for start in graph:
        if start in seen:
            continue
        comp, todo = set(), [start]
        while todo:
            v = todo.pop()
            if v in comp:
                continue
            comp.add(v)
            todo.extend(w for w in graph.get(v, ()) if w in graph and w not in comp)
        seen |= comp
        comps.append(comp)
    return comps


def distances(graph, src):
    """{address: hops from src} for everything reachable from src (breadth-first)."""
    dist, todo = {src: 0}, deque([src])
    while todo:
        v = todo.popleft()
        for w in graph.get(v, ()):
            if w not in dist:
                dist[w] = dist[v] + 1
                todo.append(w)
    return dist
