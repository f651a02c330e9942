# Makes a tiny OPT model folder (transformers' OPTForCausalLM, a few thousand parameters, random weights from seed 0)
# with a byte-level BPE tokenizer of OPT's special tokens (</s> as BOS and EOS, <pad> distinct), written the way
# `save_pretrained` writes a Hub snapshot. It stands in for facebook/opt-125m in tests of the bridges that hand an
# engine a model PrefLab does not read (docs/sites.md): same architecture and tokenizer conventions, no download.
#
#   .venv-engines/bin/python scripts/make-tiny-opt.py OUT_DIR
#
# Deterministic: the same files (weights bit for bit) on every run with the pinned torch/transformers.
import sys

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
from transformers import OPTConfig, OPTForCausalLM, PreTrainedTokenizerFast

# OPT's special tokens and ids (facebook/opt-125m: <s> 0, <pad> 1, </s> 2, <unk> 3).
SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]


def tokenizer():
    """Byte-level BPE over the 256 byte symbols, no merges; OPT's post-processor puts </s> before every text."""
    symbols = list(pre_tokenizers.ByteLevel.alphabet())
    vocab = {token: i for i, token in enumerate(SPECIALS + sorted(symbols))}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.TemplateProcessing(single="</s> $A", pair="</s> $A $B", special_tokens=[("</s>", 2)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="</s>", eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>", model_max_length=1024)


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: make-tiny-opt.py OUT_DIR")
    tok = tokenizer()
    torch.manual_seed(0)
    config = OPTConfig(vocab_size=len(tok), hidden_size=8, word_embed_proj_dim=8, num_hidden_layers=1, ffn_dim=16,
                       num_attention_heads=2, max_position_embeddings=1024, pad_token_id=1, bos_token_id=2,
                       eos_token_id=2, dropout=0.0, attention_dropout=0.0, do_layer_norm_before=True)
    model = OPTForCausalLM(config)
    model.save_pretrained(sys.argv[1], safe_serialization=True)
    tok.save_pretrained(sys.argv[1])


if __name__ == "__main__":
    main()
