#!/usr/bin/python3
"""Plays an HLS URL with GStreamer's HLS client (playbin3 → hlsdemux2, the media stack WebKitGTK browsers use) into
fake sinks, as fast as it can, and prints one JSON line: decoded video frames and audio buffers, the caps it chose,
and the first error if any. Used by tests/vod/transcode.test.ts as a player other than hls.js and FFmpeg."""
import json
import sys

import gi

gi.require_version('Gst', '1.0')
from gi.repository import GLib, Gst  # noqa: E402

Gst.init(None)
uri, timeout = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 60
player = Gst.parse_launch(
    f'playbin3 uri="{uri}" '
    'video-sink="fakesink sync=false signal-handoffs=true" audio-sink="fakesink sync=false signal-handoffs=true"'
)
out = {'video': 0, 'audio': 0, 'width': None, 'height': None, 'eos': False, 'error': None}


def on_video(sink, buf, pad):
    out['video'] += 1
    if out['width'] is None:
        s = pad.get_current_caps().get_structure(0)
        out['width'], out['height'] = s.get_value('width'), s.get_value('height')


player.get_property('video-sink').connect('handoff', on_video)
player.get_property('audio-sink').connect('handoff', lambda *a: out.__setitem__('audio', out['audio'] + 1))
loop = GLib.MainLoop()


def on_message(bus, msg):
    if msg.type == Gst.MessageType.EOS:
        out['eos'] = True
        loop.quit()
    elif msg.type == Gst.MessageType.ERROR:
        err, debug = msg.parse_error()
        out['error'] = f'{err.message} ({debug})'
        loop.quit()


bus = player.get_bus()
bus.add_signal_watch()
bus.connect('message', on_message)
player.set_state(Gst.State.PLAYING)
GLib.timeout_add_seconds(timeout, loop.quit)
loop.run()
player.set_state(Gst.State.NULL)
print(json.dumps(out))
