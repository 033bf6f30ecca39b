"""Run a command in a child process and report its exit code, output, CPU time and peak memory.

    python tests/measure.py CMD...  ->  one JSON line: {"code", "out", "err", "cpu_s", "peak_rss_mb"}

CPU time (user + system) rather than wall time, so that a loaded CI machine does not make the bounds flaky; the
peak RSS is `ru_maxrss` of the finished child (and what it forked and waited for). RLIMIT_CPU stops a runaway child
after 60 s of CPU, so a regression fails the test instead of hanging it.
"""

import json
import resource
import subprocess
import sys


def _cap_cpu() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (60, 60))


def main() -> None:
    proc = subprocess.run(sys.argv[1:], capture_output=True, text=True, preexec_fn=_cap_cpu)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "code": proc.returncode,
        "out": proc.stdout,
        "err": proc.stderr,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # Linux reports KiB
    }))


if __name__ == "__main__":
    main()
