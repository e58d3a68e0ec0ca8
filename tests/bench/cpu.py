"""CPU time of a process to the nanosecond, from each thread's /proc/PID/task/TID/schedstat.
The clock ticks of /proc/PID/stat count in 10 ms steps: over a few hundred milliseconds of
steps that is several percent, more than the differences the benchmark looks for.

A thread that ends between two readings takes its time with it; the worker pools end a
thread only after seconds of idleness, longer than any measured stretch, so what is lost
is a thread that did nothing in it."""
import os


def threads(pid):
    """Nanoseconds on CPU so far, per live thread of `pid`."""
    times = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                times[tid] = int(f.read().split()[0])
        except OSError:
            pass  # the thread ended while the folder was read
    return times


def spent(before, after):
    """Seconds on CPU between two readings of `threads`: threads born in between count whole."""
    return sum(ns - before.get(tid, 0) for tid, ns in after.items()) / 1e9
