"""The changed-fact feature (rag/answer/mismatch.py) on hand-written sentences."""

from __future__ import annotations

import pytest

from rag.answer.mismatch import AskedPlacements, SubstitutionIndex, tokens

# (question, sentence, facts substituted): each changed fact is one a reader would call a different fact
CASES = [
    ("Which brand opened the world's largest experience center in Beijing?",
     "Gong Zheng welcomed the Arc'teryx brand to open the world's largest experience center in Shanghai.", 1),
    ("By how much will the population aged 60 grow during the 15th Five Year Plan period?",
     "The new population aged 60 in China during the 14th Five Year Plan period will increase by 34%.", 1),
    ("Where was the Ninth Plenary Session of the Seventh Central Committee held?",
     "In 1961 the CPC held the Ninth Plenary Session of the Eighth Central Committee in Beijing.", 1),
    ("Which store on Nanjing East Road did Gong Zheng visit?",
     "The Arc'teryx Museum store, located in the core area of Nanjing West Road business district, opened.", 1),
    # the same facts, or a paraphrase of ordinary words: nothing changed
    ("How many exhibitors took part in the Old Expo?", "The Old Expo attracted more than 400 exhibitors.", 0),
    ("What position does Wang Junzheng hold?",
     "Together with Wang Junzheng, Secretary of the Party Committee of the Xizang Autonomous Region.", 0),
    ("Which university trained Shanghai's first home economics undergraduates?",
     "The first batch of undergraduate domestic economics students admitted by Shanghai Open University.", 0),
    # spelled and digit ordinals are the same fact; a word inside a longer one is there
    ("Who was Genghis's 3rd son?", "Under the reign of Genghis' third son, Ogedei Khan, the Mongols advanced.", 0),
    ("What happened to deforestation in the Amazon region of Brazil between 2004 and 2014?",
     "Deforestation has declined significantly in the Brazilian Amazon between 2004 and 2014.", 0),
    # an owner ("the F3's") and a make ("an ARM") before the same noun fill different slots; two owners do not
    ("What is the maximum clock frequency of the F3's Cortex-M4F processor?",
     "A single-core ARM Cortex-M4F processor with a maximum clock frequency of 72 MHz.", 0),
    ("What share of Shanghai's population is aged 60 or over?",
     "It is predicted that China's population aged 60 or over will grow by 34%.", 1),
]


@pytest.mark.parametrize(("question", "sentence", "expected"), CASES)
def test_substituted_facts(question: str, sentence: str, expected: int) -> None:
    assert SubstitutionIndex(sentence).substituted(tokens(question)) == expected


def test_only_facts_count() -> None:
    words, facts, _ = tokens("Who led the Xizang delegation in the 15th year, third time, in 2024?")
    fact_words = {w for w, f in zip(words, facts) if f}
    # the opening word is capitalised by position only; "led", "delegation", "year" are ordinary words
    assert fact_words == {"xizang", "15th", "3rd", "2024"}


def test_a_fact_named_elsewhere_in_the_question_is_no_substitute() -> None:
    q = "What happened in the Amazon region of Peru between 2004 and 2014?"
    # "Amazon" fills Peru's slot ("... between 2004"), but the question names it too: a reordering
    assert SubstitutionIndex("It declined in the Peruvian Amazon between 2004 and 2014.").substituted(tokens(q)) == 0
    # another country in the same slot is a changed fact
    assert SubstitutionIndex("It declined in Bolivia between 2004 and 2014.").substituted(tokens(q)) == 1


# (question, sentence, placed facts replaced): the same preposition before another fact of the same kind
PLACEMENTS = [
    ("How many exhibitors attended the elderly care expo in Beijing?",
     "The Old Expo opened in Shanghai, attracting more than 400 exhibitors.", 1),
    ("How many students graduated from Shanghai Open University in 2022?",
     "The first batch of students admitted by Shanghai Open University will graduate in July this year.", 1),
    # the fact is there, or placed nowhere else: nothing replaced
    ("How many exhibitors took part in the Old Expo in Shanghai?", "The Old Expo in Shanghai drew 400 exhibitors.", 0),
    ("Which store opened in Beijing?", "A store opened near the Bund last week.", 0),
    # a name is not replaced by a time ("from Merck" against "from July 17"), nor by a fact the question names
    ("Who came from Merck?", "From July 17 to 18, Chen Jining led the delegation.", 0),
    ("Which mayor of Shanghai spoke in Pudong?", "The mayor spoke in Shanghai.", 0),
]


@pytest.mark.parametrize(("question", "sentence", "expected"), PLACEMENTS)
def test_replaced_placements(question: str, sentence: str, expected: int) -> None:
    assert SubstitutionIndex(sentence).replaced_placements(AskedPlacements.of([tokens(question)])) == expected


def test_a_sentence_answering_one_part_of_a_two_part_question_is_not_counted_against_it() -> None:
    from rag.answer.parts import question_parts  # noqa: PLC0415

    q = "Which body researched elderly care products, and which body launched the platform in Hongkou?"
    parts = [tokens(p) for p in question_parts(q)]
    assert len(parts) == 2
    s = SubstitutionIndex("The committee researched elderly care products in Shanghai.")
    # the second part places its platform in Hongkou, the sentence its research in Shanghai: it answers part one
    assert s.replaced_placements(AskedPlacements.of([tokens(q)])) == 1
    assert s.replaced_placements(AskedPlacements.of(parts)) == 0


def test_a_sentence_index_is_built_once_per_text() -> None:
    from rag.answer.mismatch import sentence_index  # noqa: PLC0415

    text = "The expo opened in Shanghai."
    assert sentence_index(text) is sentence_index(text)
    assert sentence_index(text).replaced_placements(AskedPlacements.of([tokens("Which expo opened in Beijing?")])) == 1

