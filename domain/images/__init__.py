"""Illustrations: prompts, providers (local Pillow cards or an HTTP API), storage, cleanup. No Dramatiq."""
