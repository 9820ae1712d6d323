"""What every twin-run script shares: the command-line flags of the harness and the initial weights.

``--save-init PATH`` writes the model's initial state dict (NumPy .npz) after building it;
``--load-init PATH`` replaces the initial weights by those, so both frameworks start equal;
the last line printed is ``FINAL <loss>``. Plain PyTorch code: it runs under torch and under
``chainrule torch`` alike.
"""

import argparse

import numpy as np
import torch


def parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--save-init", default="")
    p.add_argument("--load-init", default="")
    p.add_argument("--seed", type=int, default=0)
    return p


def same_start(model, args):
    if args.save_init:
        np.savez(args.save_init, **{k: v.detach().cpu().numpy() for k, v in model.state_dict().items()})
    if args.load_init:
        saved = np.load(args.load_init)
        model.load_state_dict({k: torch.from_numpy(saved[k]) for k in saved.files})


def report(loss):
    print(f"FINAL {float(loss):.8f}")
