"""The test kit: what tests/ and benchmarks/ share to drive porttray on a real machine.

The desktop stack (Xvfb, a private session bus, dunst, a StatusNotifierWatcher host, the real
panel hosts), the tray driver, process sampling, listener load and churn, machine facts and the
`porttray watch` driver live here, so a benchmark and a test measure and drive porttray the same
way and neither imports the other.
"""
