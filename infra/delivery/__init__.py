"""What keeps the delivery pipeline (infra/stacks/delivery_stack.py) nag- and lint-clean."""
