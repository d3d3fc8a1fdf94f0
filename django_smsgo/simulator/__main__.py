"""``python -m django_smsgo.simulator --port 8765``."""

from .cli import main

if __name__ == "__main__":
    main()
