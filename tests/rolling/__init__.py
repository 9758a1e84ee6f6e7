"""Other releases of the shop, for the rolling-deploy tests: what a message looked like before, start-up
modules that make one process run a newer or an older release's contracts, and the launcher that imports them.

Nothing here is reachable from the shop's own code or settings: a process runs another release only when a test
starts it through ``launch`` (``Shop.start(name, startup=...)``).
"""
