"""English word lists shared by ingest, retrieval, citation checking and answering: months, stop words,
and the words that mark a kind of answer (person, organisation, place, number).

Each list lives here once, at the bottom of the layering (this module imports nothing from rag), so
a module that needs a word list never imports a module that merely happens to hold one. Where two
uses read different lists, both are kept under their own names with the reason: the lists were
measured with the answers they give, so merging two of them would change answers, not tidy code.
"""

from __future__ import annotations

# ---- months

# Every spelling of each month a document date may use, in month order (the first is the full name).
_MONTH_SPELLINGS: tuple[tuple[str, ...], ...] = (
    ("january", "jan"),
    ("february", "feb"),
    ("march", "mar"),
    ("april", "apr"),
    ("may",),
    ("june", "jun"),
    ("july", "jul"),
    ("august", "aug"),
    ("september", "sep", "sept"),
    ("october", "oct"),
    ("november", "nov"),
    ("december", "dec"),
)
MONTH_NAMES: tuple[str, ...] = tuple(spellings[0] for spellings in _MONTH_SPELLINGS)  # [n - 1] is month n

# Lower-case abbreviation -> full name; "may" abbreviates itself, so a word in either table is a month.
MONTH_ABBREVIATIONS: dict[str, str] = {m[:3]: m for m in MONTH_NAMES} | {"sept": "september"}

# Lower-case spelling -> month number, for dates written in documents ("Sept. 3, 2024", "09 May 2024").
MONTH_NUMBERS: dict[str, int] = {name: n for n, spellings in enumerate(_MONTH_SPELLINGS, start=1) for name in spellings}

# The same without "sept": the months a question's date filter reads ("in May 2024"), which were always the
# calendar module's English names and abbreviations. Adding "sept" would give more questions an automatic
# date filter, i.e. change answers, so it waits for a measurement.
QUESTION_MONTH_NUMBERS: dict[str, int] = (
    {name: n for n, name in enumerate(MONTH_NAMES, start=1)} | {name[:3]: n for n, name in enumerate(MONTH_NAMES, start=1)}
)

# A regular expression for a capitalised month name or abbreviation with an optional period ("Jan.", "June",
# "Sept"): how an answer sentence writes a date. Capitalised only, so "may" the verb is no month.
MONTH_PATTERN = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?"
                 r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")

# ---- stop words: three lists for three jobs, each chosen with the answers it gives, so they stay apart.

# Words that are capitalised only because they start a sentence (or are headline-cased filler); they never
# count as names, and answering reads them as no content. Kept short on purpose: a real name missing here
# costs nothing.
COMMON_WORDS = frozenset(
    """a an the this that these those there here it its it's he she they we you i his her their our your
    my me him them us who whom whose which what when where why how whether if then than so as at by for
    from in into of on onto to with within without about above after against along among around before
    behind below beneath beside between beyond but and or nor not no yes also although though because
    since until unless while during per via over under up down out off again further once all any both
    each few more most other some such only own same too very can could may might must shall should will
    would is are was were be been being have has had having do does did doing according however moreover
    meanwhile furthermore therefore thus hence besides instead overall finally first firstly second
    secondly third lastly next today yesterday tomorrow currently recently previously later earlier now
    in-depth based following including regarding among just even still yet many much several every
    one two three four five six seven eight nine ten last new said says say according""".split()
)

# Where a question's focus phrase ("how many *visitors* came") ends: an auxiliary, a preposition, an article.
# Not COMMON_WORDS: the phrase runs on past its other words ("how many *new stores*" keeps "stores").
FOCUS_STOP_WORDS = frozenset("""did does do is was were are has have had will would can could should may might in on at of
    for from to by with that the a an and or met""".split())

# Pronouns that refer back to an earlier question ("and who signed *it*?"): a short question holding one is a
# follow-up.
FOLLOW_UP_PRONOUNS = frozenset({
    "it", "its", "it's", "they", "them", "their", "theirs", "this", "that", "these", "those", "he", "she",
    "him", "her", "his", "hers", "former", "latter", "same",
})
# Words that are no content of a follow-up question, nor borrowed from the question before it. It differs
# from COMMON_WORDS both ways (it adds "tell", "please", "give", "know"; it lacks "before", "during", "first"):
# it was written for rewriting questions, COMMON_WORDS for telling names from filler.
FOLLOW_UP_STOPWORDS = frozenset({
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "from", "by", "with", "about", "into", "over", "under",
    "and", "or", "but", "so", "as", "than", "then", "also", "is", "are", "was", "were", "be", "been", "being",
    "do", "does", "did", "done", "have", "has", "had", "can", "could", "will", "would", "shall", "should", "may",
    "might", "must", "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "many", "much",
    "according", "tell", "me", "us", "please", "i", "we", "you", "your", "our", "my", "any", "some", "there",
    "not", "no", "yes", "if", "all", "more", "most", "other", "such", "up", "out", "get", "got", "give", "say",
    "said", "know", "one", *FOLLOW_UP_PRONOUNS,
})

# Words after a number that carry no unit or noun of their own: nothing to bind the number to.
NOT_A_UNIT = frozenset(
    "a an the and or of in on at to from for by with than as is are was were be been has have had "
    "will would to per percent % and/or million billion thousand hundred times year years".split()
)

# ---- the words that mark a kind of answer (rag/answer/answer_type.py); generic English only

# Capitalised words that mark an organisation, a title or a place, not a person's name.
NOT_PERSON_WORDS = frozenset(
    """ministry minister committee department office government council party congress district city road
    street province municipal university group company bureau commission association center centre session
    plan national people's people comrade mr mrs ms dr vice deputy secretary mayor chairman president director
    general central state standing executive board conference economic work meeting forum festival exhibition
    museum store hospital school college institute bank news daily new area zone park week day year report
    action the a an in on of and for to with from by at
    king queen prince princess duke duchess earl lord lady sir saint pope emperor empress tsar czar sultan bishop
    archbishop cardinal captain colonel governor senator premier professor""".split()
)
ORG_WORDS = frozenset(
    """ministry committee department office government council party congress bureau commission association
    center centre university group company corporation co ltd inc agency institute bank school college
    administration daily""".split()
)
PLACE_WORDS = frozenset("road street avenue district city province county village town region river lake".split())
NUMBER_WORDS = frozenset("""two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty
    hundred hundreds thousand thousands million millions billion billions dozen dozens half""".split())
# Number words with their values, for folding "four" and "4" alike when a reader's answer is looked up in a
# sentence (rag/answer/answer_match.py); up to the hundreds, since larger ones come with digits ("1.5 million").
NUMBER_VALUES: dict[str, int] = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())} | {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
                                               "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12}
# Words a short answer may add or drop without changing what it states ("the Shanghai Museum" = "Shanghai Museum").
ANSWER_FILLER = frozenset("a an the of in on at to and or by for with from as is was are were be been it its their "
                          "this that these those about around some".split())
# The number words that hold an answer to a number question asking for no count ("how old", "how far"):
# answer_type.holds_kind reads this shorter list there, NUMBER_WORDS for counts.
SMALL_NUMBER_WORDS = frozenset("two three four five six seven eight nine ten dozen dozens hundred hundreds half".split())
