"""The browser playground.

The browser playground: ``chainrule playground`` serves a page where a network trains live in
the chainrule engine (data, features, layers, optimizers, pictures), plus a backprop explorer.

Modules: ``server`` (Starlette app, sessions, protocol), ``config`` (settings and validation),
``data`` (seeded 2-D data sets, CSV upload), ``trainer`` (network, training, frames),
``export`` (runnable script + safetensors weights), ``expr`` (the backprop explorer).
"""
