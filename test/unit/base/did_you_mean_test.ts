import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { closest, didYouMean } from "../../../src/base/did_you_mean.ts";

describe("didYouMean", () => {
  test("names the closest known name for a typo, a swap or a missing letter; nothing for a stranger", () => {
    const fields = ["image", "phrase", "regsense", "numeric", "calc", "min_len", "max_len", "lang", "textinstructions"];
    assert.equal(closest("numberic", fields), "numeric");
    assert.equal(closest("min_lenght", fields), "min_len");
    assert.equal(closest("lnag", fields), "lang");
    assert.equal(closest("Phrase", fields), "phrase");
    assert.equal(closest("sitekey", fields), undefined);
    assert.equal(didYouMean("threds", ["threads", "listen"], (f) => `--${f}`), " (did you mean --threads?)");
    assert.equal(didYouMean("zzz", ["threads"]), "");
  });
});
