"""Dispatch help (派单建议, 批量派单): the matching engine and the batch dispatch board.

costs.py      the cost model on numpy arrays (weights, components, eligibility)
matching.py   candidates from the database (`build_problem`) and ranked suggestions (`suggest`)
services.py   batch dispatch: solvers and `batch_assign` / `batch_apply` (through `orders.services.order_dispatch`)
selectors.py  what the actor may dispatch
views.py, urls.py, api.py   the board under /orders/dispatch/ and /api/v1/orders/dispatch/
"""
