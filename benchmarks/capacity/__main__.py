"""python -m benchmarks.capacity"""
import sys

from benchmarks.capacity.cli import main

sys.exit(main())
