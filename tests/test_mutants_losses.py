"""The losses (minigrad/losses.py): shape checks, the fused mse (saved gradient, spare
buffer, chunked forward), rmse at a perfect fit, huber at its threshold."""
