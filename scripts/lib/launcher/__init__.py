"""The cluster launcher behind scripts/launch: start a cluster of gossip nodes on one or many hosts, watch it,
stop it and bring its logs home. Standard library only (Python 3.11+, for tomllib)."""
