"""One demo per idea of the linear-regression notes; each prints its numbers and saves figures.

Run one alone with ``python demos/NAME.py --out DIR`` or through the command line with
``minigrad demo NAME --out DIR`` (``minigrad demo all`` runs every one).
"""

DEMOS: dict[str, str] = {
    "linear_model": "the cars data: best-fit line by gradient descent vs the closed form",
    "loss_table": "L1, MAE, L2, MSE and RMSE of one set of predictions, step by step",
    "outliers": "MAE vs MSE (and Huber) on data with outliers",
    "gradient_descent": "from w = 0, b = 0 at lr 0.01: autograd vs hand-derived gradients",
    "loss_curve": "the loss curve, and where training converged",
    "loss_surface": "the convex loss surface with the descent path, raw vs standardized",
    "learning_rates": "learning rate too small, good, and too high (from the stable bound)",
    "batch_sizes": "SGD vs mini-batch vs full batch: the noise in their loss curves",
    "epochs": "updates per epoch for several batch sizes",
    "taxi": "the Crash Course taxi fares: one, then two features, with RMSprop",
    "newton": "one Newton step from the Hessian vs hundreds of gradient-descent steps",
    "graph": "the computation graph of the notes' model and its backward pass, step by step",
    "jit": "mg.jit writes the model's gradient as NumPy code; eager vs compiled vs by hand",
    "logistic_regression": "the next step: σ(w·x + b), log loss, a decision boundary, thresholds",
    "mlp": "a small MLP fits a curve no line can; from zero init it cannot (symmetry)",
}
"""Name → one-line description, in the order of the notes."""
