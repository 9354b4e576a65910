#!/usr/bin/env python3
"""An independent WeChat peer for freshbot's integration tests, built on wechatpy.

Reads one JSON request on stdin, writes one JSON answer on stdout. Requests:

  {"op": "sign", "token", "timestamp", "nonce"}
      -> {"signature"}                     plain callback signature (wechatpy's WeChatSigner)
  {"op": "encrypt", "kind": "oa"|"wecom", "token", "aes_key", "appid", "xml", "nonce", "timestamp"}
      -> {"body", "msg_signature", "timestamp", "nonce"}   an encrypted callback body
  {"op": "encrypt_echostr", "token", "aes_key", "appid", "echostr", "nonce", "timestamp"}
      -> {"echostr", "msg_signature"}      WeCom's encrypted GET echostr
  {"op": "decrypt", "kind": "oa"|"wecom", "token", "aes_key", "appid", "body", "msg_signature", "timestamp", "nonce"}
      -> {"xml", "message": {...}}         decrypts and verifies a reply, then parses it
  {"op": "parse", "kind": "oa"|"wecom", "xml"} -> {"message": {...}}

Errors: {"error": "..."} with exit status 1.
"""
import json
import sys

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto, PrpCrypto, _get_signature
from wechatpy.enterprise import parse_message as parse_wecom_message
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto
from wechatpy.utils import WeChatSigner
import xmltodict


def crypto_for(req):
    cls = WeComCrypto if req.get("kind") == "wecom" else WeChatCrypto
    return cls(req["token"], req["aes_key"], req["appid"])


def describe(kind, xml):
    msg = (parse_wecom_message if kind == "wecom" else parse_message)(xml)
    return {
        "type": msg.type,
        "source": msg.source,
        "target": msg.target,
        "content": getattr(msg, "content", None),
        "fields": xmltodict.parse(xml)["xml"],
    }


def main():
    req = json.load(sys.stdin)
    op = req["op"]
    if op == "sign":
        s = WeChatSigner()
        s.add_data(req["token"], req["timestamp"], req["nonce"])
        out = {"signature": s.signature}
    elif op == "encrypt":
        body = crypto_for(req).encrypt_message(req["xml"], req["nonce"], req["timestamp"])
        fields = xmltodict.parse(body)["xml"]
        out = {
            "body": body,
            "encrypt": fields["Encrypt"],
            "msg_signature": fields["MsgSignature"],
            "timestamp": fields["TimeStamp"],
            "nonce": fields["Nonce"],
        }
    elif op == "encrypt_echostr":
        c = crypto_for(req)
        echostr = PrpCrypto(c.key).encrypt(req["echostr"], req["appid"])
        echostr = echostr.decode() if isinstance(echostr, bytes) else echostr
        out = {
            "echostr": echostr,
            "msg_signature": _get_signature(req["token"], req["timestamp"], req["nonce"], echostr),
        }
    elif op == "decrypt":
        xml = crypto_for(req).decrypt_message(
            req["body"], req["msg_signature"], req["timestamp"], req["nonce"]
        )
        out = {"xml": xml, "message": describe(req.get("kind"), xml)}
    elif op == "parse":
        out = {"message": describe(req.get("kind"), req["xml"])}
    else:
        raise ValueError("unknown op %r" % op)
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the test shows the reason
        json.dump({"error": "%s: %s" % (type(e).__name__, e)}, sys.stdout)
        sys.exit(1)
