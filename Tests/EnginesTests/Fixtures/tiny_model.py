# Test fixture: a tiny random Llama (HF folder) with a BPE tokenizer trained here, and rows in the bridge's
# format, with token ids from that tokenizer encoding the prompt and each response separately (as PrefLab
# does). Used by EnginesTests when the engines venv exists; seconds to make.
#   python tiny_model.py OUT_DIR KIND   (KIND: causal | reward)
import json
import random
import sys

from tokenizers import Tokenizer, models, pre_tokenizers, trainers, decoders
from transformers import LlamaConfig, LlamaForCausalLM, LlamaForSequenceClassification, PreTrainedTokenizerFast

out, kind = sys.argv[1], sys.argv[2]
random.seed(0)
words = ["apple", "pear", "plum", "fig", "kiwi", "lime", "date", "grape", "melon", "berry"]
texts = [" ".join(random.choice(words) for _ in range(6)) for _ in range(200)]
specials = ["<|pad|>", "<|user|>", "<|assistant|>", "<|end|>"]
bpe = Tokenizer(models.BPE())
bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
bpe.decoder = decoders.ByteLevel()
bpe.train_from_iterator(texts, trainers.BpeTrainer(vocab_size=120, special_tokens=specials,
                                                   initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
tok = PreTrainedTokenizerFast(tokenizer_object=bpe, pad_token="<|pad|>", eos_token="<|end|>")
config = LlamaConfig(vocab_size=bpe.get_vocab_size(), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                     num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=256,
                     tie_word_embeddings=True, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
import torch
torch.manual_seed(0)
model = (LlamaForCausalLM if kind == "causal" else LlamaForSequenceClassification)(
    config if kind == "causal" else LlamaConfig(**{**config.to_dict(), "num_labels": 1}))
model.save_pretrained(out)
tok.save_pretrained(out)


def ids(text):
    return tok(text, add_special_tokens=False)["input_ids"]


rows = []
for i in range(16):
    prompt = f"<|user|>{texts[i]}<|end|><|assistant|>"
    chosen, rejected = " " + " ".join(words[:3]), " " + texts[i + 50]
    rows.append({"prompt": prompt, "chosen": chosen, "rejected": rejected, "completion": chosen,
                 "prompt_ids_preflab": ids(prompt), "chosen_ids_preflab": ids(chosen) + [tok.eos_token_id],
                 "rejected_ids_preflab": ids(rejected) + [tok.eos_token_id],
                 "completion_ids_preflab": ids(chosen) + [tok.eos_token_id],
                 "fitted_prompt_ids_preflab": ids(prompt), "fitted_completion_ids_preflab": ids(chosen) + [tok.eos_token_id]})
with open(f"{out}/rows.jsonl", "w") as f:
    for r in rows:
        f.write(json.dumps(r) + "\n")
