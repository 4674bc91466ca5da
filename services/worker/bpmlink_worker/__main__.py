"""python -m bpmlink_worker: run one worker process (scale by running more)."""

from .main import main

if __name__ == "__main__":
    main()
