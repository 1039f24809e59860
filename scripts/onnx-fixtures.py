#!/usr/bin/env python3
"""ONNX files written by torch.onnx.export, and the same modules' state dicts as .safetensors,
with PyTorch's outputs, for test/interop-onnx.test.ts and test/interop-safetensors.test.ts.

Run with Debian's python3-torch (1.13): /usr/bin/python3 scripts/onnx-fixtures.py
Writes fixtures/onnx/<name>.onnx, <name>.safetensors and <name>.json ({ torch, input: {shape,
data}, output: {shape, data} }). The outputs are PyTorch's own (float32 forward pass), never ours.
The safetensors files are written as the format's specification lays them out (Debian has no
`safetensors` package): 8-byte little-endian header length, JSON header with `__metadata__`
{"format": "pt"} and sorted keys, then each tensor's little-endian F32 bytes.
"""
import json
import os
import subprocess
import struct

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'onnx')


class Net(torch.nn.Module):
    """A recurrent module and a Linear head applied at every step."""

    def __init__(self, rnn, features, outputs):
        super().__init__()
        self.rnn = rnn
        self.fc = torch.nn.Linear(features, outputs)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.fc(y)


def write_safetensors(path, state_dict):
    header, blobs, offset = {'__metadata__': {'format': 'pt'}}, [], 0
    for key in sorted(state_dict):
        data = state_dict[key].detach().contiguous().to(torch.float32).numpy().astype('<f4').tobytes()
        header[key] = {'dtype': 'F32', 'shape': list(state_dict[key].shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))


def case(name, rnn, features, batch_first, seed):
    torch.manual_seed(seed)
    net = Net(rnn, features, 2).eval()
    for p in net.parameters():  # non-zero biases everywhere, so that every bias is checked
        torch.nn.init.uniform_(p, -0.6, 0.6)
    shape = (2, 5, 3) if batch_first else (5, 2, 3)
    x = torch.randn(*shape)
    with torch.no_grad():
        y = net(x)
    axes = {0: 'batch', 1: 'time'} if batch_first else {0: 'time', 1: 'batch'}
    torch.onnx.export(
        net, x, os.path.join(OUT, f'{name}.onnx'), input_names=['x'], output_names=['y'],
        dynamic_axes={'x': axes, 'y': axes}, opset_version=14,
    )
    write_safetensors(os.path.join(OUT, f'{name}.safetensors'), net.state_dict())
    flat = lambda t: [round(float(v), 9) for v in t.reshape(-1)]
    with open(os.path.join(OUT, f'{name}.json'), 'w') as f:
        json.dump({
            'torch': torch.__version__, 'module': repr(rnn),
            'input': {'shape': list(x.shape), 'data': flat(x)},
            'output': {'shape': list(y.shape), 'data': flat(y)},
        }, f)
        f.write('\n')


def main():
    os.makedirs(OUT, exist_ok=True)
    case('lstm-2layer-bidirectional', torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True), 10, True, 1)
    case('gru-time-major', torch.nn.GRU(3, 4), 4, False, 2)
    case('gru-bidirectional', torch.nn.GRU(3, 4, bidirectional=True, batch_first=True), 8, True, 3)
    case('rnn-relu-2layer', torch.nn.RNN(3, 4, num_layers=2, nonlinearity='relu', batch_first=True), 4, True, 4)

    # The repository's formatter owns the JSON layout (npm run lint checks it).
    subprocess.run(['npx', 'prettier', '--write', *[os.path.join(OUT, f) for f in sorted(os.listdir(OUT)) if f.endswith('.json')]], check=True, cwd=os.path.join(OUT, '..', '..'))


if __name__ == '__main__':
    main()
