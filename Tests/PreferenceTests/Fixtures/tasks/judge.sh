#!/bin/sh
# Test judge for ExternalAnnotator: one JSON request per line in, one reply per line out.
# Prefers the response that starts with "good"; other prompts exercise the other reply forms.
while IFS= read -r line; do
    case "$line" in
        *'"a":"good'*) echo '{"preference":"a"}' ;;
        *'"b":"good'*) echo '{"preference":"b"}' ;;
        *'"prompt":"scores"'*) echo '{"score_a":1,"score_b":2.5}' ;;
        *'"prompt":"tie"'*) echo '{"score_a":1,"score_b":1}' ;;
        *'"prompt":"garbage"'*) echo 'not json' ;;
        *'"prompt":"quit"'*) exit 0 ;;
        *) echo '{"preference":"maybe"}' ;;
    esac
done
