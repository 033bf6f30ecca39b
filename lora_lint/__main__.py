import sys

from lora_lint.cli import main

sys.exit(main())
