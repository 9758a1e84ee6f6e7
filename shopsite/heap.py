"""Keep what start-up created out of the garbage collector's full passes.

Django, the apps and their modules are a few hundred thousand objects that
live as long as the process; a full collection walked them all (about 45 ms
on the 2-core machine, a pause in the middle of some request or message).
``gc.freeze`` leaves them out; what the work allocates is collected as before.
"""

import gc


def settle() -> None:
    """Call once, when start-up is done (the app loaded, the handlers imported)."""
    gc.collect()
    gc.freeze()
