"""The scaling decision, step by step with a simulated clock: delays, smoothing, no flapping,
and the cluster budget going to the critical path's bottleneck first."""

from __future__ import annotations

from hogar_nb.core.autoscale import AutoscalePolicy
from hogar_nb.steer.budget import Budget, critical_nodes
from hogar_nb.steer.decide import NodeScaler, Want

POLICY = AutoscalePolicy(1, 8, target_ongoing=2.0, scale_up_delay_ms=1000.0, scale_down_delay_ms=5000.0)


def run(scaler: NodeScaler, load, start: float, until: float, current: int, tick: float = 0.1):
    """Feed ``load(t)`` every tick; apply each want at once. Returns (wants with times, count)."""
    seen = []
    t = start
    while t < until - 1e-9:
        scaler.observe(load(t), t)
        want = scaler.want(current, t)
        if want is not None:
            seen.append((round(t, 3), want))
            current = want.replicas
        t += tick
    return seen, current


def test_a_step_scales_up_once_after_the_up_delay():
    scaler = NodeScaler("n", POLICY)
    seen, current = run(scaler, lambda t: 2 if t < 1.0 else 16, 0.0, 6.0, 1)
    assert current == 8
    (when, want), = seen
    assert (want.current, want.replicas, want.up) == (1, 8, True)
    assert 2.0 <= when <= 2.0 + 0.15, "a step held for the whole up delay is met in one move, at once"
    assert "for 1 s, target 2 per replica" in want.why


def test_one_low_reading_in_the_up_window_does_not_split_the_move():
    """Clients between two calls: one tick reads 10 of a held 16, and 8 replicas still come at once
    (with a short delay the smoothed signal has not caught up yet: it wants 7)."""
    scaler = NodeScaler("n", AutoscalePolicy(1, 8, target_ongoing=2.0, scale_up_delay_ms=500.0,
                                             scale_down_delay_ms=5000.0))
    dipped = lambda t: 2 if t < 1.0 else 10 if 1.25 < t < 1.35 else 16  # noqa: E731
    seen, current = run(scaler, dipped, 0.0, 6.0, 1)
    assert [(w.current, w.replicas) for _, w in seen] == [(1, 8)] and current == 8
    assert "(smoothed, 16 at the window's median) for 0.5 s" in seen[0][1].why


def test_a_burst_held_under_half_the_up_delay_is_not_met_at_its_peak():
    """30 for 0.4 s, then 6: the smoothed signal (7.x) wants 4; the peak would want 15."""
    scaler = NodeScaler("n", POLICY)
    burst = lambda t: 2 if t < 1.0 else 30 if t < 1.4 else 6  # noqa: E731
    seen, current = run(scaler, burst, 0.0, 6.0, 1)
    (_, want), = seen
    assert (want.current, want.replicas) == (1, 4) and want.why.startswith("7.")


def test_a_burst_shorter_than_the_up_delay_changes_nothing():
    scaler = NodeScaler("n", POLICY)
    seen, current = run(scaler, lambda t: 20 if 1.0 <= t < 1.2 else 1, 0.0, 10.0, 1)
    assert seen == [] and current == 1


def test_load_removed_scales_down_after_the_down_delay_to_the_windows_peak():
    scaler = NodeScaler("n", POLICY)
    scaler.observe(6, 0.0)
    seen, current = run(scaler, lambda t: 6 if t < 2.0 else 0, 0.0, 12.0, 8)
    assert [w.replicas for _, w in seen] == [4, 1]
    assert seen[0][0] >= 5.0 and seen[1][0] - seen[0][0] >= 5.0
    assert current == 1


def test_a_load_on_a_boundary_does_not_flap():
    scaler = NodeScaler("n", POLICY)
    wobble = lambda t: 9.5 if int(t * 10) % 2 else 8.5  # noqa: E731 - just past 4 replicas' target
    seen, current = run(scaler, wobble, 0.0, 120.0, 4)
    ups = [w.up for _, w in seen]
    assert current == 5 and ups == [True], "one step up, never back and forth"


def test_the_bounds_hold():
    scaler = NodeScaler("n", AutoscalePolicy(2, 3, 1.0, 0.0, 0.0))
    _, current = run(scaler, lambda t: 100, 0.0, 2.0, 2)
    assert current == 3
    _, current = run(scaler, lambda t: 0, 2.0, 4.0, current)
    assert current == 2
    limited = NodeScaler("n", AutoscalePolicy(1, 8, 1.0, 0.0, 0.0), most=5)
    assert run(limited, lambda t: 100, 0.0, 2.0, 1)[1] == 5


EARG = {
    "nodes": [
        {"name": "src", "kind": "source", "resources": {"cpu": 0, "gpu": 0, "memory_bytes": 0}},
        {"name": "fast", "kind": "python", "resources": {"cpu": 1, "gpu": 0, "memory_bytes": 0}},
        {"name": "slow", "kind": "python", "resources": {"cpu": 1, "gpu": 0, "memory_bytes": 0}},
        {"name": "join", "kind": "ensemble", "resources": {"cpu": 0, "gpu": 0, "memory_bytes": 0}},
        {"name": "out", "kind": "sink", "resources": {"cpu": 0, "gpu": 0, "memory_bytes": 0}},
    ],
    "edges": [{"src": "src", "dst": "fast"}, {"src": "src", "dst": "slow"}, {"src": "fast", "dst": "join"},
              {"src": "slow", "dst": "join"}, {"src": "join", "dst": "out"}],
    "cluster": {"workers": 1, "cpu": 5, "gpu": 0, "memory_bytes": None},
}


def test_the_critical_path_follows_observed_latency():
    assert critical_nodes(EARG, {"fast": 5.0, "slow": 80.0}) == ["src", "slow", "join", "out"]
    assert critical_nodes(EARG, {"fast": 90.0, "slow": 80.0}) == ["src", "fast", "join", "out"]


def test_a_short_budget_goes_to_the_bottleneck_on_the_critical_path_first():
    budget = Budget(EARG)
    wants = [Want("fast", 1, 4, "busy", 4.0), Want("slow", 1, 4, "busy", 3.0)]
    granted = budget.grant(wants, {"fast": 1, "slow": 1}, ["src", "slow", "join", "out"])
    assert [(w.node, n) for w, n, _ in granted] == [("slow", 4)]
    wants = [Want("fast", 1, 3, "busy", 3.0), Want("slow", 1, 3, "busy", 2.5)]
    granted = budget.grant(wants, {"fast": 1, "slow": 1}, ["src", "slow", "join", "out"])
    assert sorted((w.node, n) for w, n, _ in granted) == [("fast", 2), ("slow", 3)], \
        "the critical path's node gets all it asked for, the rest what is left"


def test_a_grant_names_what_cut_it():
    budget = Budget(EARG)
    granted = budget.grant([Want("slow", 1, 8, "busy", 8.0)], {"fast": 1, "slow": 1}, ["src", "slow"])
    (want, n, why), = granted
    assert n == 4 and "the cluster's cpu budget gave 3 of the 7 asked for" in why


def test_without_a_cluster_every_want_is_granted():
    earg = {k: v for k, v in EARG.items() if k != "cluster"}
    granted = Budget(earg).grant([Want("slow", 1, 8, "busy", 8.0)], {"slow": 1}, [])
    assert [(w.node, n, why) for w, n, why in granted] == [("slow", 8, "")]
