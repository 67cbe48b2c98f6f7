#!/usr/bin/env bash
# test_pixels.sh - burned-in text removal end to end: generated images with
# known boxes (recall, review share, over-redaction, JPEG blocks) and, when
# ../shared is present, the real ultrasound images. See tests/pixel/README.md.
exec bash "$(dirname "$0")/../pixel/test_pixels.sh" "$@"
