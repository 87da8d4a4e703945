"""The crash test (bench/crash_test.py) in a short run: spmigd killed with SIGKILL three times
in the middle of a mixed Blob and Queue write load and a running `spmig migrate`, restarted on
the same data directory each time; every acknowledged write must be there, the migration must
complete afterwards. The full run is the script itself (bench/README.md).

The binaries come from $SPMIGD and $SPMIG (meson sets them). Run with /usr/bin/python3."""
import json
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, '..', '..', 'bench', 'crash_test.py')


class CrashTest(unittest.TestCase):
    def test_kill9_under_load(self):
        p = subprocess.run([sys.executable, SCRIPT, '--rounds', '3', '--seconds', '1.5',
                            '--deadline', '120', '--spmigd', os.environ['SPMIGD'],
                            '--spmig', os.environ['SPMIG']],
                           capture_output=True, timeout=300)
        out = p.stdout.decode(errors='replace')
        self.assertEqual(p.returncode, 0, out + p.stderr.decode(errors='replace')[-3000:])
        summary = json.loads(out.splitlines()[0])
        self.assertEqual(summary['kills'], 3, summary)
        self.assertEqual(summary['problems'], 0, out)
        self.assertGreater(summary['acknowledged writes'], 100, summary)
        self.assertEqual(summary['files checked'], 60, summary)


if __name__ == '__main__':
    unittest.main()
