"""aggregate_plot.py - draws dissemination.png with matplotlib. Run as a separate program by scripts/aggregate
(so that the aggregator itself needs only the standard library):

    PYTHON aggregate_plot.py OUT.png < data.json

data.json: {"title": str, "latencies_ms": [float], "corrected_ms": [float] | null,
            "messages": [{"t_rel_s": float, "max_ms": float|null, "time_to_all_ms": float|null}]}
Exit status: 0 drawn, 3 matplotlib is not installed for this interpreter, 1 anything else.
"""

import json
import sys


def main():
    if len(sys.argv) != 2:
        print("usage: aggregate_plot.py OUT.png < data.json", file=sys.stderr)
        return 1
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return 3
    data = json.load(sys.stdin)
    lat = sorted(data.get("latencies_ms") or [])
    corr = sorted(data.get("corrected_ms") or [])
    msgs = data.get("messages") or []
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    if lat:
        ys = [(i + 1) / len(lat) for i in range(len(lat))]
        ax1.step(lat, ys, where="post", label="raw (receiver clock - origin clock)")
        if corr:
            yc = [(i + 1) / len(corr) for i in range(len(corr))]
            ax1.step(corr, yc, where="post", label="clock-corrected")
        ax1.legend(loc="lower right", fontsize=8)
    else:
        ax1.text(0.5, 0.5, "no receipts", ha="center", va="center", transform=ax1.transAxes)
    ax1.set_xlabel("origin -> receipt latency (ms)")
    ax1.set_ylabel("fraction of receipts")
    ax1.set_title("CDF of dissemination latency")
    ax1.set_ylim(0, 1.02)
    ax1.grid(True, alpha=0.3)
    xs = [m["t_rel_s"] for m in msgs if m.get("max_ms") is not None]
    ys = [m["max_ms"] for m in msgs if m.get("max_ms") is not None]
    xa = [m["t_rel_s"] for m in msgs if m.get("time_to_all_ms") is not None]
    ya = [m["time_to_all_ms"] for m in msgs if m.get("time_to_all_ms") is not None]
    xi = [m["t_rel_s"] for m in msgs if m.get("time_to_all_ms") is None and m.get("expected")]
    if xs:
        ax2.scatter(xs, ys, s=14, marker="o", label="latest receipt")
    if xa:
        ax2.scatter(xa, ya, s=22, marker="x", label="time to all expected peers")
    if xi:
        ax2.scatter(xi, [0] * len(xi), s=30, marker="v", color="red", label="some expected peer missed it")
    if xs or xi:
        ax2.legend(loc="upper right", fontsize=8)
    ax2.set_xlabel("message origin time (s from the first message)")
    ax2.set_ylabel("ms")
    ax2.set_title("per message")
    ax2.grid(True, alpha=0.3)
    fig.suptitle(data.get("title") or "dissemination")
    fig.tight_layout()
    fig.savefig(sys.argv[1], dpi=100)
    return 0


if __name__ == "__main__":
    sys.exit(main())
