"""Lint each file named in a manifest, in this process, one `lora-lint check` per file; print one JSON summary.

    python tests/fuzz/run_batch.py MANIFEST

A crash is: an exception out of the command line, an exit code other than 0/1/2, a traceback or an internal error
on stderr, or JSON output that does not parse or does not report the file. Per file, CPU time is measured
(time.process_time, robust to a loaded machine); the process's peak RSS bounds every file's.
"""

import contextlib
import io
import json
import resource
import sys
import time
import traceback


def peak_rss_mb() -> float:
    """This process's peak RSS. On Linux from VmHWM, which belongs to the current program: ru_maxrss would also
    count the parent's memory that this process had between fork and exec (pytest's, with torch imported)."""
    try:
        for line in open("/proc/self/status", encoding="ascii"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    from lora_lint.cli import main as lora_lint

    paths = open(sys.argv[1], encoding="utf-8").read().split("\n")
    crashes, slowest, codes = [], ("", 0.0), {}
    for path in filter(None, paths):
        out, err = io.StringIO(), io.StringIO()
        start = time.process_time()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = lora_lint(["check", "--offline", "--output-format", "json", path])
        except BaseException:  # noqa: BLE001 - anything escaping the command line is a crash
            crashes.append({"path": path, "why": traceback.format_exc()[-2000:]})
            continue
        spent = time.process_time() - start
        slowest = max(slowest, (path, spent), key=lambda pair: pair[1])
        codes[code] = codes.get(code, 0) + 1
        why = None
        if code not in (0, 1, 2):
            why = f"exit code {code}"
        elif "Traceback" in err.getvalue() or "internal error" in err.getvalue():
            why = err.getvalue()[-2000:]
        elif code in (0, 1):
            try:
                files = json.loads(out.getvalue())["files"]
                if [entry["path"] for entry in files] != [path]:
                    why = "the JSON report does not report the file"
            except (ValueError, KeyError, TypeError) as exc:
                why = f"JSON output does not parse: {exc}"
        if why:
            crashes.append({"path": path, "why": why})
    print(json.dumps({"inputs": len(list(filter(None, paths))), "crashes": crashes, "exit_codes": codes,
                      "slowest": {"path": slowest[0], "cpu_s": slowest[1]},
                      "peak_rss_mb": peak_rss_mb()}))


if __name__ == "__main__":
    main()
