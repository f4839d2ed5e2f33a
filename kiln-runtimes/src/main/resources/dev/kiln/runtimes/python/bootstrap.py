"""Kiln's bootstrap for Python functions: runs _kiln_bootstrap, the Runtime API client.

The client is imported as a module, not run as this script, because Python compiles a script each
time it starts (a fifth of a no-op's cold start, issue 23) but loads a module's bytecode from
__pycache__, which Kiln writes when it installs the runtime (RuntimeTable).
"""

import _kiln_bootstrap

_kiln_bootstrap.main()
