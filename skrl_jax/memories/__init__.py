"""Memories: fixed-size pytree buffers with jittable add and sample."""

from skrl_jax.memories.random import MemoryState, RandomMemory, memory_add, memory_init, memory_sample

__all__ = ["MemoryState", "RandomMemory", "memory_add", "memory_init", "memory_sample"]
