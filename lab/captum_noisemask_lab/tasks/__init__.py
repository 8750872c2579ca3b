"""The lab's tasks behind one interface (:class:`~.base.Task`): data, held-out split, classifier,
training; :func:`~.base.prepare` gets any of them ready.

Adding a task: write a module that builds a :class:`~.base.Task` (its class names, its
data as ``(train_set, test_set)`` or where its IDX files are, its default training) and
add it to :data:`TASKS`; ``--dataset`` then offers it to ``reproduce``, ``compare`` and
``explain-dataset``.
"""

from __future__ import annotations

from .base import PreparedTask, Task, prepare
from .mnist import FASHION_MNIST, MNIST
from .patterns import pattern_task

__all__ = ["TASKS", "PreparedTask", "Task", "prepare"]

#: Every task, by name (``--dataset``).
TASKS: dict[str, Task] = {task.name: task for task in (MNIST, FASHION_MNIST, pattern_task())}
