#!/usr/bin/env python3
"""Keras files and their outputs, for test/interop-keras-files.test.ts.

Run with Debian's python3-h5py and NumPy: /usr/bin/python3 scripts/keras-fixtures.py

1. A NumPy forward pass written from Keras's equations (SimpleRNN, LSTM, GRU with reset_after
   both ways, CuDNNLSTM/CuDNNGRU, Bidirectional, Dense, Activation, RepeatVector), in float64.
   It is checked first against the predictions that Keras itself stored beside the real dl4j
   Keras 2.1.3 files (fixtures/real-models/dl4j-simple-*), and refuses to go on if it differs.
2. The outputs of the real tf.keras 2.2.4 files (fixtures/real-models/dl4j-tfkeras-rnn/*.h5, which
   carry no predictions) on a seeded input: fixtures/real-models/dl4j-tfkeras-rnn/expected.json.
3. New files in Keras's documented layouts, written with h5py: fixtures/keras/*.h5 (tf.keras 2
   HDF5: GRU reset_after=True and False, Bidirectional, CuDNNLSTM and CuDNNGRU weights) and
   fixtures/keras/*.keras (Keras 3: a zip of config.json, metadata.json, model.weights.h5), each
   with <name>.json holding an input and the NumPy output.
"""
import io
import json
import os
import subprocess
import zipfile

import h5py
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures')
REAL = os.path.join(ROOT, 'real-models')
OUT = os.path.join(ROOT, 'keras')

# ---------------------------------------------------------------- Keras's equations, in NumPy
ACT = {
    'tanh': np.tanh,
    'sigmoid': lambda x: 1 / (1 + np.exp(-x)),
    'hard_sigmoid': lambda x: np.clip(0.2 * x + 0.5, 0, 1),  # Keras 2's
    'relu': lambda x: np.maximum(x, 0),
    'linear': lambda x: x,
    'softmax': lambda x: np.exp(x - x.max(-1, keepdims=True)) / np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True),
}


def rnn(kind, cfg, w, x):
    """One recurrent layer over x [batch, time, input]; returns every step [batch, time, units]."""
    units = cfg['units']
    f = ACT[cfg.get('activation', 'tanh')]
    s = ACT[cfg.get('recurrent_activation', 'sigmoid')]
    K, U = w[0], w[1]
    b = w[2] if len(w) > 2 else np.zeros(K.shape[1])
    if cfg.get('go_backwards'):
        x = x[:, ::-1]
    h = np.zeros((x.shape[0], units))
    c = np.zeros_like(h)
    out = []
    for t in range(x.shape[1]):
        xt = x[:, t]
        if kind == 'SimpleRNN':
            h = f(xt @ K + h @ U + b)
        elif kind in ('LSTM', 'CuDNNLSTM'):
            bias = b[: 4 * units] + b[4 * units:] if b.size == 8 * units else b
            z = xt @ K + h @ U + bias
            i, fg, cc, o = (z[:, k * units:(k + 1) * units] for k in range(4))
            c = s(fg) * c + s(i) * f(cc)
            h = s(o) * f(c)
        else:  # GRU, CuDNNGRU
            after = kind == 'CuDNNGRU' or cfg.get('reset_after', False)
            part = lambda m, k: m[:, k * units:(k + 1) * units]
            if after:
                bb = b.reshape(2, -1) if b.size == 6 * units else np.stack([b, np.zeros_like(b)])
                mx = xt @ K + bb[0]
                mh = h @ U + bb[1]
                z = s(part(mx, 0) + part(mh, 0))
                r = s(part(mx, 1) + part(mh, 1))
                n = f(part(mx, 2) + r * part(mh, 2))
            else:
                mx = xt @ K + b
                z = s(part(mx, 0) + h @ U[:, :units])
                r = s(part(mx, 1) + h @ U[:, units:2 * units])
                n = f(part(mx, 2) + (r * h) @ U[:, 2 * units:])
            h = z * h + (1 - z) * n
        out.append(h)
    return np.stack(out, 1)


RECURRENT = ('SimpleRNN', 'LSTM', 'GRU', 'CuDNNLSTM', 'CuDNNGRU')


def layer_forward(layer, w, x):
    kind, cfg = layer['class_name'], layer['config']
    if kind in RECURRENT:
        y = rnn(kind, cfg, w, x)
        return y if cfg.get('return_sequences') else y[:, -1]
    if kind == 'Bidirectional':
        inner = cfg['layer']
        half = len(w) // 2
        fwd = rnn(inner['class_name'], inner['config'], w[:half], x)
        bwd = rnn(inner['class_name'], inner['config'], w[half:], x[:, ::-1])
        if inner['config'].get('return_sequences'):
            return np.concatenate([fwd, bwd[:, ::-1]], -1)
        return np.concatenate([fwd[:, -1], bwd[:, -1]], -1)
    if kind == 'Dense':
        return ACT[cfg['activation']](x @ w[0] + (w[1] if len(w) > 1 else 0))
    if kind == 'TimeDistributed':
        return layer_forward(cfg['layer'], w, x)
    if kind == 'Embedding':
        return w[0][x.astype(int)]
    if kind == 'Activation':
        return ACT[cfg['activation']](x)
    if kind == 'RepeatVector':
        return np.repeat(x[:, None, :], cfg['n'], 1)
    if kind in ('InputLayer', 'Dropout'):
        return x
    raise ValueError(f'no NumPy forward for {kind}')


def layers_of(config):
    c = config['config']
    return c if isinstance(c, list) else c['layers']


def h5_forward(path, x):
    """The output of a Keras 2 / tf.keras HDF5 model file on x."""
    with h5py.File(path, 'r') as f:
        config = json.loads(f.attrs['model_config'])
        mw = f['model_weights']
        for layer in layers_of(config):
            name = layer['config']['name']
            names = [n.decode() if isinstance(n, bytes) else n for n in mw[name].attrs['weight_names']]
            x = layer_forward(layer, [np.asarray(mw[name][n], np.float64) for n in names], x)
    return x


def check_against_keras():
    """The NumPy pass against the predictions Keras 2.1.3 stored beside its own files."""
    for folder, stem in (('dl4j-simple-rnn-keras2', 'simple_rnn'), ('dl4j-simple-flatten-lstm-keras2', 'simple_flatten_lstm')):
        with h5py.File(os.path.join(REAL, folder, f'{stem}_tf_keras_2_inputs_and_outputs.h5'), 'r') as io_:
            x = np.asarray(next(iter(io_['inputs'].values())), np.float64)
            want = np.asarray(io_['predictions/dense_1'], np.float64)
        got = h5_forward(os.path.join(REAL, folder, f'{stem}_tf_keras_2_model.h5'), x)
        diff = np.abs(got - want).max()
        print(f'{folder}: NumPy vs Keras predictions max |diff| = {diff:.2e}')
        assert diff < 1e-5, folder


def listed(a):
    return [round(float(v), 10) for v in np.asarray(a).reshape(-1)]


def tensor(a):
    return {'shape': list(a.shape), 'data': listed(a)}


def real_tfkeras():
    folder = os.path.join(REAL, 'dl4j-tfkeras-rnn')
    x = np.random.default_rng(13).standard_normal((2, 3, 4))
    expected = {'input': tensor(x), 'outputs': {}}
    for name in sorted(os.listdir(folder)):
        if name.endswith('.h5'):
            expected['outputs'][name] = tensor(h5_forward(os.path.join(folder, name), x))
    with open(os.path.join(folder, 'expected.json'), 'w') as f:
        json.dump(expected, f)
        f.write('\n')


# ---------------------------------------------------------------- new files in Keras's layouts
def recurrent_weights(rng, kind, inputs, units, cfg):
    gates = {'SimpleRNN': 1, 'LSTM': 4, 'CuDNNLSTM': 4}.get(kind, 3)
    k = rng.uniform(-0.6, 0.6, (inputs, gates * units))
    u = rng.uniform(-0.6, 0.6, (units, gates * units))
    if kind.startswith('CuDNN'):
        b = rng.uniform(-0.5, 0.5, (2 * gates * units,))
    elif kind == 'GRU' and cfg.get('reset_after'):
        b = rng.uniform(-0.5, 0.5, (2, gates * units))
    else:
        b = rng.uniform(-0.5, 0.5, (gates * units,))
    return [k.astype(np.float32), u.astype(np.float32), b.astype(np.float32)]


def rnn_config(name, kind, units, **extra):
    cfg = {'name': name, 'trainable': True, 'dtype': 'float32', 'units': units, 'return_sequences': True,
           'return_state': False, 'go_backwards': False, 'stateful': False}
    if not kind.startswith('CuDNN'):
        cfg.update({'activation': 'tanh', 'use_bias': True, 'dropout': 0.0, 'recurrent_dropout': 0.0, 'unroll': False})
        if kind != 'SimpleRNN':
            cfg['recurrent_activation'] = 'sigmoid'
    cfg.update(extra)
    return {'class_name': kind, 'config': cfg}


def build(rng, layers, input_size):
    """Weights for a chain of layers: [(layer config, [arrays])]."""
    out = []
    size = input_size
    for layer in layers:
        kind, cfg = layer['class_name'], layer['config']
        if kind in RECURRENT:
            w = recurrent_weights(rng, kind, size, cfg['units'], cfg)
            size = cfg['units']
        elif kind == 'Bidirectional':
            inner = cfg['layer']
            w = recurrent_weights(rng, inner['class_name'], size, inner['config']['units'], inner['config'])
            w += recurrent_weights(rng, inner['class_name'], size, inner['config']['units'], inner['config'])
            size = 2 * inner['config']['units']
        elif kind in ('Dense', 'TimeDistributed'):
            units = (cfg['layer']['config'] if kind == 'TimeDistributed' else cfg)['units']
            w = [rng.uniform(-0.7, 0.7, (size, units)).astype(np.float32), rng.uniform(-0.3, 0.3, (units,)).astype(np.float32)]
            size = units
        elif kind == 'Embedding':
            w = [rng.uniform(-1, 1, (cfg['input_dim'], cfg['output_dim'])).astype(np.float32)]
            size = cfg['output_dim']
        else:
            w = []
        out.append((layer, w))
    return out


def dense(name, units, activation):
    return {'class_name': 'Dense', 'config': {'name': name, 'units': units, 'activation': activation, 'use_bias': True, 'trainable': True, 'dtype': 'float32'}}


def write_h5(name, layers, input_size, seed):
    """A tf.keras 2 HDF5 model file (model.save): model_config, model_weights/<layer>/<layer>/<var>:0."""
    rng = np.random.default_rng(seed)
    weighted = build(rng, layers, input_size)
    embedded = layers[0]['class_name'] == 'Embedding'
    layers[0]['config']['batch_input_shape'] = [None, None] if embedded else [None, None, input_size]
    config = {'class_name': 'Sequential', 'config': {'name': name, 'layers': layers}}
    with h5py.File(os.path.join(OUT, f'{name}.h5'), 'w') as f:
        f.attrs['keras_version'] = '2.2.4-tf'
        f.attrs['backend'] = 'tensorflow'
        f.attrs['model_config'] = json.dumps(config)
        mw = f.create_group('model_weights')
        mw.attrs['layer_names'] = [l['config']['name'].encode() for l, _ in weighted]
        for layer, w in weighted:
            lname = layer['config']['name']
            g = mw.create_group(lname)
            if layer['class_name'] == 'Bidirectional':
                inner = layer['config']['layer']['config']['name']
                vars_ = [f'{d}_{inner}/{v}:0' for d in ('forward', 'backward') for v in ('kernel', 'recurrent_kernel', 'bias')]
            elif layer['class_name'] in ('Dense', 'TimeDistributed'):
                vars_ = ['kernel:0', 'bias:0']
            elif layer['class_name'] == 'Embedding':
                vars_ = ['embeddings:0']
            else:
                vars_ = ['kernel:0', 'recurrent_kernel:0', 'bias:0']
            g.attrs['weight_names'] = [f'{lname}/{v}'.encode() for v in vars_]
            for v, a in zip(vars_, w):
                g.create_dataset(f'{lname}/{v}', data=a)
    return weighted


def write_keras3(name, layers, input_size, seed):
    """A Keras 3 .keras zip: config.json, metadata.json, model.weights.h5 (layers/<name>/[cell/]vars/<i>)."""
    rng = np.random.default_rng(seed)
    weighted = build(rng, layers, input_size)
    k3 = [{'module': 'keras.layers', 'class_name': 'InputLayer', 'config': {'batch_shape': [None, None, input_size], 'dtype': 'float32', 'name': 'input_layer'}}]
    for layer, _ in weighted:
        entry = {'module': 'keras.layers', 'class_name': layer['class_name'], 'config': dict(layer['config']), 'registered_name': None}
        if layer['class_name'] == 'Bidirectional':
            inner = dict(entry['config']['layer'])
            entry['config']['layer'] = {'module': 'keras.layers', **inner}
            back = json.loads(json.dumps(inner))
            back['config']['go_backwards'] = True
            back['config']['name'] = 'backward_' + inner['config']['name']
            entry['config']['backward_layer'] = {'module': 'keras.layers', **back}
        k3.append(entry)
    config = {'module': 'keras', 'class_name': 'Sequential', 'config': {'name': name, 'trainable': True, 'layers': k3}, 'registered_name': None}
    buf = io.BytesIO()
    with h5py.File(buf, 'w') as f:
        for layer, w in weighted:
            lname = layer['config']['name']
            if layer['class_name'] == 'Bidirectional':
                for d, part in (('forward_layer', w[:3]), ('backward_layer', w[3:])):
                    for i, a in enumerate(part):
                        f.create_dataset(f'layers/{lname}/{d}/cell/vars/{i}', data=a)
            elif layer['class_name'] in RECURRENT:
                for i, a in enumerate(w):
                    f.create_dataset(f'layers/{lname}/cell/vars/{i}', data=a)
            else:
                for i, a in enumerate(w):
                    f.create_dataset(f'layers/{lname}/vars/{i}', data=a)
    with zipfile.ZipFile(os.path.join(OUT, f'{name}.keras'), 'w') as z:
        z.writestr('metadata.json', json.dumps({'keras_version': '3.6.0', 'date_saved': '2026-11-26@12:00:00'}))
        z.writestr('config.json', json.dumps(config))
        z.writestr('model.weights.h5', buf.getvalue())
    return weighted


def expected(name, weighted, input_size, seed):
    rng = np.random.default_rng(seed + 100)
    first = weighted[0][0]
    if first['class_name'] == 'Embedding':
        x = rng.integers(0, first['config']['input_dim'], (2, 5)).astype(np.float64)
    else:
        x = rng.standard_normal((2, 5, input_size))
    y = x
    for layer, w in weighted:
        y = layer_forward(layer, [np.asarray(a, np.float64) for a in w], y)
    with open(os.path.join(OUT, f'{name}.json'), 'w') as f:
        json.dump({'input': tensor(x), 'output': tensor(y)}, f)
        f.write('\n')


def main():
    os.makedirs(OUT, exist_ok=True)
    check_against_keras()
    real_tfkeras()
    cases = [
        ('h5', 'gru-reset-after', [rnn_config('gru', 'GRU', 5, reset_after=True), dense('dense', 2, 'linear')]),
        ('h5', 'gru-reset-before-bidirectional', [
            {'class_name': 'Bidirectional', 'config': {'name': 'bidirectional', 'merge_mode': 'concat', 'layer': rnn_config('gru_1', 'GRU', 4, reset_after=False)}},
            dense('dense', 3, 'softmax')]),
        ('h5', 'cudnn-lstm-gru', [rnn_config('cu_dnnlstm', 'CuDNNLSTM', 4), rnn_config('cu_dnngru', 'CuDNNGRU', 3, return_sequences=False), dense('dense', 2, 'linear')]),
        ('keras', 'keras3-lstm-bigru', [
            rnn_config('lstm', 'LSTM', 4),
            {'class_name': 'Bidirectional', 'config': {'name': 'bidirectional', 'merge_mode': 'concat', 'layer': rnn_config('gru', 'GRU', 3, reset_after=True)}},
            dense('dense', 2, 'softmax')]),
        ('h5', 'embedding-lstm-timedistributed', [
            {'class_name': 'Embedding', 'config': {'name': 'embedding', 'input_dim': 7, 'output_dim': 3, 'mask_zero': False, 'trainable': True, 'dtype': 'float32'}},
            rnn_config('lstm', 'LSTM', 4, recurrent_activation='hard_sigmoid'),
            {'class_name': 'TimeDistributed', 'config': {'name': 'time_distributed', 'trainable': True, 'layer': dense('dense', 2, 'softmax')}}]),
    ]
    for seed, (fmt, name, layers) in enumerate(cases):
        weighted = (write_h5 if fmt == 'h5' else write_keras3)(name, layers, 3, seed)
        expected(name, weighted, 3, seed)
        print(f'fixtures/keras/{name}.{fmt}')

    # The repository's formatter owns the JSON layout (npm run lint checks it).
    subprocess.run(['npx', 'prettier', '--write', *[os.path.join(OUT, f) for f in sorted(os.listdir(OUT)) if f.endswith('.json')] + [os.path.join(REAL, 'dl4j-tfkeras-rnn', 'expected.json')]], check=True, cwd=os.path.join(OUT, '..', '..'))


if __name__ == '__main__':
    main()
