#!/usr/bin/python3
"""A native (non-browser) WHIP publisher: GStreamer's webrtcbin sends a test pattern and a tone to a WHIP endpoint.

    whip-gst.py URL KEY --codec h264|vp8 [--seconds N] [--offer-out FILE] [--vp8-picture-id 15-bit|7-bit|none]

Builds videotestsrc ! x264enc|vp8enc ! rtp…pay ! webrtcbin (+ audiotestsrc ! opusenc ! rtpopuspay), gathers every
ICE candidate (no trickle, no STUN), POSTs the offer with the bearer key, sets the answer, sends for N seconds and
DELETEs the resource with the key. Prints "playing", "location <path>", "answered", "deleted <status>" lines on stdout for the
test that runs it; exits non-zero on any failure.
"""
import argparse
import sys
import urllib.error
import urllib.parse
import urllib.request

import gi

gi.require_version('Gst', '1.0')
gi.require_version('GstWebRTC', '1.0')
gi.require_version('GstSdp', '1.0')
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

VIDEO = {
    # Constrained Baseline, which x264 signals with constraint_set0 and set1: profile-level-id 42c0xx
    'h264': 'x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 bitrate=500 ! video/x-h264,profile=constrained-baseline '
            '! rtph264pay config-interval=-1 aggregate-mode=zero-latency ! application/x-rtp,media=video,encoding-name=H264,payload=102',
    # picture-id-mode: mediasoup (every 3.x) drops VP8 whose payload descriptor lacks the extension bits (no
    # PictureID) as unparsable, so it never sees a keyframe and forwards no frame; rtpvp8pay's default is none
    'vp8': 'vp8enc deadline=1 keyframe-max-dist=30 target-bitrate=500000 ! rtpvp8pay picture-id-mode={picture_id} '
           '! application/x-rtp,media=video,encoding-name=VP8,payload=96',
}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument('url')
    ap.add_argument('key')
    ap.add_argument('--codec', choices=VIDEO, default='h264')
    ap.add_argument('--seconds', type=float, default=10)
    ap.add_argument('--offer-out')
    ap.add_argument('--vp8-picture-id', choices=['15-bit', '7-bit', 'none'], default='15-bit')
    args = ap.parse_args()

    Gst.init(None)
    pipeline = Gst.parse_launch(
        'webrtcbin name=w bundle-policy=max-bundle '
        'videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! videoconvert '
        f'! {VIDEO[args.codec].format(picture_id=args.vp8_picture_id)} ! w. '
        'audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! opusenc ! rtpopuspay '
        '! application/x-rtp,media=audio,encoding-name=OPUS,payload=111 ! w.'
    )
    webrtc = pipeline.get_by_name('w')
    loop = GLib.MainLoop()
    state = {'location': None, 'failed': None, 'offered': False, 'negotiating': False}
    # the transceivers exist once parse_launch has linked the payloaders; a publisher only sends
    i = 0
    while (t := webrtc.emit('get-transceiver', i)) is not None:
        t.set_property('direction', GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY)
        i += 1

    def fail(msg: str) -> None:
        state['failed'] = msg
        print(f'error {msg}', file=sys.stderr, flush=True)
        loop.quit()

    def post_offer() -> bool:
        offer = webrtc.get_property('local-description').sdp.as_text()
        if args.offer_out:
            with open(args.offer_out, 'w') as f:
                f.write(offer)
        req = urllib.request.Request(args.url, data=offer.encode(), method='POST', headers={
            'content-type': 'application/sdp', 'authorization': f'Bearer {args.key}'})
        try:
            with urllib.request.urlopen(req, timeout=10) as res:
                state['location'] = res.headers['location']
                answer = res.read().decode()
        except urllib.error.HTTPError as e:
            fail(f'POST {e.code} {e.read().decode()}')
            return False
        except urllib.error.URLError as e:
            fail(f'POST {e.reason}')
            return False
        print(f"location {state['location']}", flush=True)
        ok, sdp = GstSdp.SDPMessage.new_from_text(answer)
        desc = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, sdp)
        webrtc.emit('set-remote-description', desc, Gst.Promise.new())
        print('answered', flush=True)
        GLib.timeout_add(int(args.seconds * 1000), loop.quit)
        return False

    def on_gathering(*_):
        # no trickle: the offer goes out once every candidate is in it
        if webrtc.get_property('ice-gathering-state') == GstWebRTC.WebRTCICEGatheringState.COMPLETE and not state['offered']:
            state['offered'] = True
            GLib.idle_add(post_offer)

    def on_offer(promise, _):
        reply = promise.get_reply()
        offer = reply.get_value('offer') if reply and reply.has_field('offer') else None
        if offer is None:
            fail(f'create-offer: {reply.to_string() if reply else "no reply"}')
            return
        webrtc.emit('set-local-description', offer, Gst.Promise.new())

    def on_negotiation_needed(_):
        # once: a second offer racing the first leaves webrtcbin without a local description
        if state['negotiating']:
            return
        state['negotiating'] = True
        webrtc.emit('create-offer', None, Gst.Promise.new_with_change_func(on_offer, None))

    def on_message(_, msg):
        if msg.type == Gst.MessageType.ERROR:
            err, dbg = msg.parse_error()
            fail(f'{err.message} {dbg}')

    webrtc.connect('on-negotiation-needed', on_negotiation_needed)
    webrtc.connect('notify::ice-gathering-state', on_gathering)
    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect('message', on_message)
    pipeline.set_state(Gst.State.PLAYING)
    print('playing', flush=True)  # the sources' clock starts: their first frame is stamped now
    GLib.timeout_add(int((args.seconds + 20) * 1000), lambda: fail('timed out') or False)
    loop.run()
    pipeline.set_state(Gst.State.NULL)

    if state['location']:
        url = urllib.parse.urljoin(args.url, state['location'])
        req = urllib.request.Request(url, method='DELETE', headers={'authorization': f'Bearer {args.key}'})
        try:
            with urllib.request.urlopen(req, timeout=10) as res:
                print(f'deleted {res.status}', flush=True)
        except urllib.error.HTTPError as e:
            fail(f'DELETE {e.code}')
    return 1 if state['failed'] else 0


if __name__ == '__main__':
    sys.exit(main())
