"""Business logic, one module each: sending, dispatch, polling, cancelling, callbacks, balance.

Views, the admin, the API, tasks and management commands call these; these
call the models and the backend. Nothing here imports a view or a task at
module level.
"""
