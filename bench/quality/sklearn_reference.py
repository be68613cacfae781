"""scikit-learn's holdout quality on the exact splits our code uses (written by export-splits.ts).

Usage: npx tsx bench/quality/export-splits.ts /tmp/splits &&
       /usr/bin/python3 bench/quality/sklearn_reference.py /tmp/splits > test/fixtures/quality/sklearn-reference.json
Features are standardised on the training rows, as ours are; regressors also learn the standardised target.
"""
import json
import sys

import numpy as np
import sklearn
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, f1_score, log_loss, mean_absolute_error, mean_squared_error, r2_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def classifiers():
    return {
        "LogisticRegression": LogisticRegression(max_iter=5000),
        "MLPClassifier": MLPClassifier(hidden_layer_sizes=(16,), max_iter=5000, random_state=0),
    }


def regressors():
    scaled = lambda m: TransformedTargetRegressor(regressor=m, transformer=StandardScaler())
    return {
        "Ridge": scaled(Ridge(alpha=1.0)),
        "MLPRegressor": scaled(MLPRegressor(hidden_layer_sizes=(16,), max_iter=5000, random_state=0)),
    }


def main(directory):
    out = {"sklearn": sklearn.__version__, "command": "npx tsx bench/quality/export-splits.ts DIR && python3 bench/quality/sklearn_reference.py DIR", "datasets": {}}
    for name in ["iris", "penguins", "cars"]:
        with open(f"{directory}/{name}.json") as f:
            d = json.load(f)
        x, y = np.array(d["x"], dtype=np.float64), np.array(d["y"])
        train, test = np.array(d["train"]), np.array(d["test"])
        entry = {"task": d["task"], "rows": len(y), "train": len(train), "test": len(test), "models": {}}
        models = classifiers() if d["task"] == "classification" else regressors()
        for model_name, model in models.items():
            pipe = make_pipeline(StandardScaler(), model)
            pipe.fit(x[train], y[train])
            if d["task"] == "classification":
                pred = pipe.predict(x[test])
                proba = pipe.predict_proba(x[test])
                metrics = {
                    "accuracy": accuracy_score(y[test], pred),
                    "macroF1": f1_score(y[test], pred, average="macro"),
                    "logLoss": log_loss(y[test], proba, labels=list(range(len(d["classes"])))),
                }
            else:
                pred = pipe.predict(x[test])
                metrics = {
                    "rmse": mean_squared_error(y[test], pred) ** 0.5,
                    "mae": mean_absolute_error(y[test], pred),
                    "r2": r2_score(y[test], pred),
                }
            entry["models"][model_name] = {k: round(float(v), 6) for k, v in metrics.items()}
        out["datasets"][name] = entry
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main(sys.argv[1])
