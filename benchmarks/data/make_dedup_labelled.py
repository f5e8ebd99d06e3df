"""Write dedup_labelled.jsonl: fictional AI-industry items with gold story labels.

    python benchmarks/data/make_dedup_labelled.py

Every story below is written by hand; the script only makes the copies that feeds really carry
from an original: a wire copy with a dateline, a newsletter's truncated summary, an aggregator's
title with no text (Hacker News, Google News, Reddit, each in its own format), "Exclusive:" and
"Updated:" prefixes, a republished lead under a rewritten headline, a lead whose first sentence an
editor rewrote, and a feed re-posting its own story under a new GUID with an editor's note
(`repost`). Aggregators copy a headline some outlet used, and come after it. Each copy gets a
`variant` field naming what was done to it, so the evaluation
can say which kinds of copies are found. Two kinds are labelled as the same story but are not
copies of one text: `independent` (another outlet's own article about the event) and `xlang` (a
report in the other language); the evaluation counts them separately, since no shingle method
can be expected to find them.

The hard negatives are what precision is measured on: the same company on the same day (DeepSeek
R2 and V4-Lite; Nvidia's earnings and its export licence; OpenAI's round and its departures),
funding rounds a week apart, point releases with template release notes (in one feed), a paper
and a blog post about a different paper by the same lab, automated market blurbs that share a
template across outlets, Chinese stories about the same company on the same day, and, within
one feed, status-page incidents and monthly threads written from one template.

The output is deterministic (seeded per story, so editing one story leaves the others' copies
as they were); rerun after editing a story.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent / "dedup_labelled.jsonl"

FEEDS: dict[str, tuple[str, str]] = {
    # feed id: (display name, host)
    "techpress": ("TechPress", "techpress.example"),
    "globalwire": ("Global Wire", "globalwire.example"),
    "hn": ("Hacker News", "news.ycombinator.example"),
    "newsletter": ("The Tokenizer", "tokenizer.example"),
    "venture": ("Venture Ledger", "ventureledger.example"),
    "chipwire": ("ChipWire", "chipwire.example"),
    "policy": ("Policy Observer", "policyobserver.example"),
    "research": ("Research Digest", "researchdigest.example"),
    "gnews": ("Google News", "news.google.example"),
    "reddit": ("r/LocalLLaMA", "reddit.example"),
    "bizdaily": ("Business Daily", "bizdaily.example"),
    "devweekly": ("Dev Weekly", "devweekly.example"),
    "streetticker": ("StreetTicker", "streetticker.example"),
    "marketpulse": ("MarketPulse", "marketpulse.example"),
    "deepmind-blog": ("Google DeepMind blog", "deepmind.example"),
    "openai-news": ("OpenAI News", "openai.example"),
    "anthropic-news": ("Anthropic News", "anthropic.example"),
    "meta-ai": ("Meta AI blog", "ai.meta.example"),
    "mistral-news": ("Mistral AI news", "mistral.example"),
    "nvidia-newsroom": ("NVIDIA Newsroom", "nvidianews.example"),
    "deepseek-releases": ("deepseek-models releases", "github.com"),
    "vllm-releases": ("vllm releases", "github.com"),
    "eu-digest": ("EU Tech Digest", "eutechdigest.example"),
    "anthropic-status": ("Anthropic Status", "status.anthropic.example"),
    "openai-status": ("OpenAI Status", "status.openai.example"),
    "jiqi": ("机器之芯", "jiqizhixin.example.cn"),
    "liangzi": ("量子维", "liangziwei.example.cn"),
    "xinzhi": ("新智源", "xinzhiyuan.example.cn"),
    "kechuang": ("科创日报", "kechuang.example.cn"),
}

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
PREFIXES = ["Exclusive: ", "Updated: ", "BREAKING: ", "Report: ", "Scoop: "]
ZH_PREFIXES = ["【独家】", "【更新】", "【快讯】", "重磅｜"]
ZH_SOURCES = ["据机器之芯报道，", "据量子维消息，", "新智源讯，", "科创日报讯，"]
SUFFIXES = [
    " This article first appeared on TechPress.",
    " Subscribe for the full analysis.",
    " (Reporting by Lena Ortiz; editing by Mark Hale)",
    " Read more in today's issue.",
]
ZH_SUFFIXES = ["（来源：机器之芯）", "（本文转载自量子维）", "（编辑：林晓）"]
EDITOR_NOTES = [
    "This story has been updated with the company's statement.",
    "Updated at 16:40 with details from the filing.",
    "Corrects the number of employees in the second paragraph.",
]
AGGREGATORS = frozenset({"title", "hn", "gnews", "reddit"})
REDDIT_USERS = ["tensor_tom", "quantized_kate", "gguf_enjoyer", "localmaxxer", "moe_fan_42"]


@dataclass
class Story:
    """One article (or one event) and the copies that feeds carry of it."""

    key: str
    when: str  # first appearance, UTC
    feed: str  # the original's feed
    title: str
    lead: str
    alts: list[str] = field(default_factory=list)  # reworded headlines used by copies
    copies: str = ""  # "feed kind title_index" separated by ";" (index 0 is the original title)
    lang: str = "en"
    city: str = "SAN FRANCISCO"
    alt_first: str = ""  # an editor's rewrite of the lead's first sentence
    others: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    # (feed, variant, lang, title, summary): items about the event that are not copies of it


def cut(text: str, rng: random.Random, lang: str) -> str:
    """A feed's truncated summary: 40-75% of the lead, ending on a word for Latin text."""
    limit = int(len(text) * rng.uniform(0.4, 0.75))
    if lang == "zh":
        return text[:limit] + "…"
    space = text.rfind(" ", 0, limit)
    return text[: space if space > 0 else limit].rstrip(",;:") + "…"


def first_sentence(text: str, lang: str) -> str:
    end = text.find("。") + 1 if lang == "zh" else text.find(". ") + 1
    return text[:end] if end > 0 else text


def make_copy(story: Story, spec: str, when: datetime, rng: random.Random) -> dict[str, str]:
    feed, kind, index = spec.split()
    title = ([story.title, *story.alts])[int(index)]
    lead, zh = story.lead, story.lang == "zh"
    slug = story.key
    name, host = FEEDS[story.feed]
    summary = lead
    if kind == "same":
        pass
    elif kind == "dateline":
        summary = f"{story.city}, {MONTHS[when.month - 1]} {when.day} (Global Wire) - {lead}"
    elif kind == "trunc":
        summary = cut(lead, rng, story.lang)
    elif kind == "prefix":
        title = rng.choice(ZH_PREFIXES if zh else PREFIXES) + title
    elif kind == "title":
        summary = ""
    elif kind == "hn":
        item = rng.randrange(45_000_000, 46_000_000)
        summary = (
            f"Article URL: https://{host}/{slug} Comments URL: "
            f"https://news.ycombinator.example/item?id={item} Points: {rng.randrange(8, 900)} "
            f"# Comments: {rng.randrange(0, 400)}"
        )
    elif kind == "gnews":
        # Google News: "Headline - Source", and a description that repeats both
        summary = f"{title} {name}"
        title = f"{title} - {name}"
    elif kind == "reddit":
        summary = f"submitted by /u/{rng.choice(REDDIT_USERS)} [link] [comments]"
    elif kind == "snippet":
        summary = first_sentence(lead, story.lang)
    elif kind == "rewrite":
        summary = story.alt_first + lead[len(first_sentence(lead, story.lang)) :]
    elif kind == "suffix":
        summary = lead + rng.choice(ZH_SUFFIXES if zh else SUFFIXES)
    elif kind == "repost":  # the same feed republishes its story under a new GUID and URL
        title = "Updated: " + title
        summary = rng.choice(EDITOR_NOTES) + " " + lead
    elif kind == "source":  # a Chinese outlet crediting the original at the start
        summary = rng.choice(ZH_SOURCES) + lead
    else:
        raise ValueError(f"unknown copy kind {kind!r} in {story.key}")
    return {"feed": feed, "variant": kind, "title": title, "summary": summary}


# --- stories with copies ----------------------------------------------------------------------

STORIES: list[Story] = [
    Story(
        key="deepseek-v4-launch",
        when="2026-11-03T09:00",
        feed="techpress",
        city="HANGZHOU",
        title="DeepSeek releases V4 with 1M-token context",
        alts=[
            "DeepSeek V4 is out: a million-token window",
            "DeepSeek unveils V4 model and cuts API prices by 40%",
            "China's DeepSeek launches V4, its largest open-weight model yet",
        ],
        lead=(
            "DeepSeek on Tuesday released V4, a mixture-of-experts model with 1.2 trillion "
            "total parameters, 52 billion of them active per token, and a context window of "
            "one million tokens. The weights are published under the MIT licence, and API "
            "prices drop by about 40% compared with V3.2. The Hangzhou lab says V4 matches "
            "leading closed models on coding and maths benchmarks."
        ),
        copies="globalwire dateline 2; hn title 1; newsletter trunc 3; gnews gnews 0; "
        "reddit reddit 0",
        others=[
            (
                "jiqi",
                "xlang",
                "zh",
                "深度求索发布 DeepSeek-V4：百万 token 上下文，API 价格再降四成",
                "11 月 3 日，深度求索（DeepSeek）正式发布新一代混合专家模型 DeepSeek-V4，上下文窗口"
                "扩展至 100 万 token，总参数 1.2 万亿，每个 token 激活 520 亿参数。模型权重以 MIT "
                "协议开源，API 价格较 V3.2 下降约 40%。官方称，V4 在代码与数学基准上已接近主流闭源模型。",
            ),
            (
                "liangzi",
                "xlang",
                "zh",
                "DeepSeek-V4 来了：百万上下文、1.2 万亿参数，API 降价四成",
                "11 月 3 日，深度求索（DeepSeek）正式发布新一代混合专家模型 DeepSeek-V4，上下文窗口"
                "扩展至 100 万 token，总参数 1.2 万亿，每个 token 激活 520 亿参数。模型权重以 MIT "
                "协议开源，API 价格较 V3.2 下降约 40%。（来源：机器之芯）",
            ),
            (
                "bizdaily",
                "independent",
                "en",
                "DeepSeek's new model puts pressure on US labs' pricing",
                "A Chinese start-up has again undercut American rivals. The model DeepSeek "
                "launched this week is priced far below comparable offerings from OpenAI and "
                "Google, analysts said, and could force another round of price cuts across the "
                "industry before the end of the year.",
            ),
        ],
    ),
    Story(
        key="deepseek-v4-release-notes",
        when="2026-11-03T01:00",
        feed="deepseek-releases",
        title="DeepSeek-V4",
        alts=["DeepSeek-V4 release notes and weights"],
        lead=(
            "DeepSeek-V4 is a mixture-of-experts model with 1.2T total and 52B activated "
            "parameters and a 1M-token context window. Highlights: Learned sparse attention "
            "makes the 1M context practical on 8 GPUs. Weights in FP8 and BF16: DeepSeek-V4-Base, "
            "DeepSeek-V4-Chat. License: MIT. Reference inference code for vLLM and SGLang."
        ),
        copies="hn hn 1",
    ),
    Story(
        key="deepseek-r2",
        when="2026-11-12T02:00",
        feed="techpress",
        city="HANGZHOU",
        title="DeepSeek releases R2, a reasoning model trained with large-scale RL",
        alts=[
            "DeepSeek R2 brings 200K-token thinking budgets",
            "DeepSeek's R2 reasoning model arrives with distilled 7B to 70B versions",
        ],
        lead=(
            "DeepSeek on Thursday released R2, a reasoning model built on DeepSeek-V4-Base and "
            "trained with large-scale reinforcement learning. R2 can think for up to 200,000 "
            "tokens, controlled by a new reasoning_effort setting, and ships with distilled "
            "dense versions at 7B, 32B and 70B parameters, all under the MIT licence."
        ),
        copies="globalwire dateline 1; hn title 0; reddit reddit 2; newsletter prefix 2",
    ),
    Story(
        key="deepseek-v4-lite",
        when="2026-11-12T04:30",
        feed="techpress",
        city="HANGZHOU",
        title="DeepSeek also ships V4-Lite, a 16B model that runs on one consumer GPU",
        alts=[
            "DeepSeek-V4-Lite: 16B parameters, 2.8B active, 256K context",
            "DeepSeek V4-Lite targets laptops and single-GPU servers",
        ],
        lead=(
            "Hours after R2, DeepSeek on Thursday released V4-Lite, a 16-billion-parameter "
            "mixture-of-experts model with 2.8 billion active parameters, distilled from V4. "
            "It supports a 256K-token context and, quantised to 4 bits, runs on a single 24 GB "
            "graphics card. Base and chat versions are available in BF16, FP8 and GGUF."
        ),
        copies="reddit reddit 1; newsletter trunc 2; gnews gnews 0",
    ),
    Story(
        key="openai-40b-round",
        when="2026-11-05T15:00",
        feed="techpress",
        title="OpenAI raises $40B in round led by sovereign wealth funds",
        alts=[
            "OpenAI closes $40B round at a $620B valuation",
            "OpenAI's $40B round, explained",
            "Sovereign funds lead OpenAI's $40 billion raise",
        ],
        lead=(
            "OpenAI has closed a $40 billion funding round led by sovereign wealth funds from "
            "the Gulf and Singapore, valuing the company at $620 billion after the investment. "
            "The money will go mostly to compute: the company has committed to more than 10 "
            "gigawatts of data-centre capacity through 2029. Existing backers SoftBank and "
            "Thrive Capital also took part."
        ),
        copies="globalwire dateline 1; hn title 1; newsletter trunc 2; venture rewrite 3; "
        "bizdaily prefix 0; gnews gnews 3",
        alt_first=(
            "Sovereign wealth funds from the Gulf and Singapore have led a $40 billion "
            "investment in OpenAI, valuing the ChatGPT maker at $620 billion."
        ),
    ),
    Story(
        key="openai-round-extension",
        when="2026-11-12T14:00",
        feed="techpress",
        title="OpenAI adds $8B to its round as SoftBank tops up",
        alts=[
            "SoftBank puts another $8 billion into OpenAI",
            "OpenAI extends funding round by $8B a week after closing it",
        ],
        lead=(
            "A week after closing its $40 billion round, OpenAI has raised a further $8 billion "
            "from SoftBank and two US pension funds on the same terms, bringing the total to "
            "$48 billion. The extension keeps the post-money valuation at $620 billion, "
            "according to a person familiar with the deal."
        ),
        copies="globalwire dateline 1; venture same 2; hn title 1",
    ),
    Story(
        key="openai-researchers-meta",
        when="2026-11-05T18:00",
        feed="techpress",
        title="OpenAI loses two researchers to Meta",
        alts=[
            "Meta hires two of OpenAI's reasoning researchers",
            "Two OpenAI reasoning researchers defect to Meta Superintelligence Labs",
        ],
        lead=(
            "Two researchers who worked on OpenAI's reasoning models have left for Meta's "
            "Superintelligence Labs, according to people familiar with the moves. The pair, "
            "who joined OpenAI in 2023, will work on post-training for Meta's next flagship "
            "model. Neither company commented on their compensation."
        ),
        copies="newsletter same 1; bizdaily prefix 2; hn title 0",
    ),
    Story(
        key="nvidia-q3-earnings",
        when="2026-11-19T21:30",
        feed="techpress",
        city="SANTA CLARA",
        title="Nvidia posts record $61B data-centre quarter",
        alts=[
            "Nvidia beats estimates as data-centre revenue hits $61 billion",
            "Nvidia Q3: revenue up 58%, guidance above Street",
            "Nvidia's data-centre sales reach a record on Blackwell Ultra demand",
        ],
        lead=(
            "Nvidia reported third-quarter revenue of $71.2 billion on Wednesday, up 58% from a "
            "year earlier, with its data-centre business contributing a record $61 billion. "
            "The company guided fourth-quarter revenue to $78 billion, above analysts' "
            "estimates, and said demand for Blackwell Ultra systems exceeds supply into 2027."
        ),
        copies="globalwire dateline 1; bizdaily rewrite 3; chipwire trunc 2; gnews gnews 1; "
        "hn title 0",
        alt_first=(
            "Nvidia said on Wednesday that revenue rose 58% to $71.2 billion in its third "
            "quarter, with its data-centre business contributing a record $61 billion."
        ),
    ),
    Story(
        key="nvidia-b30-licence",
        when="2026-11-19T16:00",
        feed="techpress",
        city="WASHINGTON",
        title="Nvidia wins US licence to ship B30 accelerators to China",
        alts=[
            "US grants Nvidia licence for B30 chip sales to China",
            "Nvidia cleared to sell cut-down B30 to Chinese customers",
        ],
        lead=(
            "The US Commerce Department has granted Nvidia a licence to sell its B30 "
            "accelerator, a cut-down Blackwell part, to customers in China, the company "
            "confirmed on Wednesday. Sales will carry a 15% revenue-sharing arrangement with "
            "the government. Nvidia said the licence covers existing orders from cloud providers."
        ),
        copies="globalwire dateline 1; chipwire same 2; policy trunc 0",
    ),
    Story(
        key="hbm-export-control",
        when="2026-11-19T13:00",
        feed="chipwire",
        city="WASHINGTON",
        title="US adds HBM memory stacks to China export-control list",
        alts=["HBM joins the export-control list", "Washington restricts HBM exports to China"],
        lead=(
            "The US Bureau of Industry and Security on Wednesday added high-bandwidth memory "
            "stacks above a bandwidth threshold to its export-control list for China, closing "
            "a gap that let Chinese accelerator makers buy HBM3E through distributors. The "
            "rule takes effect in 30 days and affects SK Hynix, Samsung and Micron."
        ),
        copies="hn title 0; newsletter same 1; policy dateline 2",
    ),
    Story(
        key="gemini-35-flash",
        when="2026-11-10T16:00",
        feed="deepmind-blog",
        title="Gemini 3.5 Flash: faster, cheaper and better at tools",
        alts=[
            "Gemini 3.5 Flash",
            "Google's Gemini 3.5 Flash undercuts 3.0 Flash on price",
            "Gemini 3.5 Flash pricing is live",
        ],
        lead=(
            "Today we're releasing Gemini 3.5 Flash, our fastest model for high-volume work. "
            "It improves tool use and long-context recall over 3.0 Flash while costing $0.25 "
            "per million input tokens and $1.50 per million output tokens. Gemini 3.5 Flash "
            "is available now in the Gemini API, AI Studio and Vertex AI."
        ),
        copies="hn title 1; newsletter prefix 3; techpress rewrite 2; gnews gnews 2",
        alt_first=(
            "Google on Tuesday released Gemini 3.5 Flash, its fastest model for high-volume work."
        ),
    ),
    Story(
        key="gemini-35-pro",
        when="2026-11-17T16:00",
        feed="deepmind-blog",
        title="Gemini 3.5 Pro: our most capable model for reasoning and code",
        alts=["Gemini 3.5 Pro", "Google launches Gemini 3.5 Pro a week after Flash"],
        lead=(
            "Today we're releasing Gemini 3.5 Pro, our most capable model for complex "
            "reasoning and code. It leads on agentic coding benchmarks and supports a 2M-token "
            "context window, priced at $2.50 per million input tokens and $12 per million "
            "output tokens. Gemini 3.5 Pro is rolling out in the Gemini app and the API."
        ),
        copies="hn title 1; techpress rewrite 2; newsletter trunc 0",
        alt_first=(
            "Google on Tuesday released Gemini 3.5 Pro, its most capable model for complex "
            "reasoning and code."
        ),
    ),
    Story(
        key="mistral-large-3",
        when="2026-11-17T08:00",
        feed="mistral-news",
        city="PARIS",
        title="Mistral AI releases Mistral Large 3 under the Apache 2.0 licence",
        alts=[
            "Mistral Large 3 goes open weight",
            "Mistral's Large 3 is now Apache 2.0",
            "French start-up Mistral opens up its flagship model",
        ],
        lead=(
            "Mistral AI today released Mistral Large 3, a 675B-parameter sparse model with a "
            "256K context window, under the Apache 2.0 licence. For the first time, the "
            "company's flagship model can be downloaded, fine-tuned and deployed commercially "
            "without a separate agreement. It is also available on La Plateforme at $2 per "
            "million input tokens."
        ),
        copies="techpress same 0; hn title 1; globalwire dateline 3; reddit reddit 2; "
        "eu-digest trunc 3",
    ),
    Story(
        key="mistral-relais",
        when="2026-11-17T11:00",
        feed="techpress",
        city="PARIS",
        title="Mistral buys Paris agent start-up Relais for a reported €600M",
        alts=["Mistral acquires Relais", "Mistral AI makes its biggest acquisition yet: Relais"],
        lead=(
            "Mistral AI has agreed to acquire Relais, a Paris start-up that builds agents for "
            "back-office automation, for about €600 million in cash and stock, two people "
            "familiar with the deal said. Relais's 70 employees will join Mistral's enterprise "
            "team. The deal is Mistral's largest to date."
        ),
        copies="globalwire dateline 2; eu-digest same 1; venture prefix 0",
    ),
    Story(
        key="eu-gpai-audit-code",
        when="2026-11-12T10:00",
        feed="policy",
        city="BRUSSELS",
        title="EU AI Office publishes draft code for general-purpose model audits",
        alts=[
            "Brussels sets out how general-purpose AI models will be audited",
            "EU's AI Office drafts audit rules for frontier models",
        ],
        lead=(
            "The European Commission's AI Office on Thursday published a draft code of practice "
            "describing how providers of general-purpose AI models with systemic risk should be "
            "audited. The draft calls for independent red-teaming before release, incident "
            "reporting within 72 hours and annual third-party audits. Comments are open until "
            "15 January."
        ),
        copies="techpress same 0; eu-digest dateline 1; newsletter trunc 2; hn title 2",
    ),
    Story(
        key="kimi-k3",
        when="2026-11-09T07:20",
        feed="techpress",
        city="BEIJING",
        title="Moonshot AI's Kimi K3 takes aim at agentic coding",
        alts=["Kimi K3 can chain 300 tool calls", "Moonshot launches Kimi K3"],
        lead=(
            "Moonshot AI released Kimi K3 on Monday, a long-context model tuned for multi-step "
            "coding agents. The Beijing company says K3 can run up to 300 tool calls in a row "
            "without human input, and it opened a public beta of a browser agent in the Kimi "
            "app."
        ),
        copies="hn title 1; reddit reddit 0; newsletter same 2",
        others=[
            (
                "jiqi",
                "xlang",
                "zh",
                "月之暗面发布 Kimi K3：面向智能体编程，可连续调用工具 300 步",
                "月之暗面（Moonshot AI）今日发布长上下文模型 Kimi K3，重点强化多步骤编程智能体能力。"
                "官方称，模型可在无人干预的情况下连续执行最多 300 步工具调用。同时，Kimi App "
                "上线浏览器智能体公测。",
            ),
            (
                "xinzhi",
                "xlang",
                "zh",
                "Kimi K3 发布：连续 300 步工具调用，浏览器智能体开启公测",
                "新智源讯，月之暗面（Moonshot AI）今日发布长上下文模型 Kimi K3，重点强化多步骤编程"
                "智能体能力。官方称，模型可在无人干预的情况下连续执行最多 300 步工具调用。",
            ),
        ],
    ),
    Story(
        key="deepseek-hiring",
        when="2026-11-03T14:00",
        feed="techpress",
        city="HANGZHOU",
        title="DeepSeek opens Hangzhou hiring drive for 300 researchers",
        alts=["DeepSeek is hiring 300 researchers in Hangzhou", "DeepSeek goes on a hiring spree"],
        lead=(
            "Fresh from the V4 launch, DeepSeek has opened more than 300 research and "
            "infrastructure positions at its Hangzhou headquarters, aimed at new PhDs from "
            "Tsinghua, Peking and Zhejiang universities and at engineers returning from labs "
            "abroad, who are offered signing bonuses. Some senior offers exceed one million "
            "yuan a year, a recruiter said."
        ),
        copies="newsletter same 1; hn title 0",
        others=[
            (
                "jiqi",
                "xlang",
                "zh",
                "深度求索启动杭州大规模招聘：开放 300 余个研究与工程岗位",
                "发布 V4 后不久，深度求索在杭州总部开放了 300 余个研究员与基础设施工程师岗位，重点"
                "面向清华、北大、浙大等高校的应届博士，并为从海外实验室回国的工程师提供签约奖金。"
                "知情人士称，部分核心岗位的年薪报价超过百万元。",
            ),
        ],
    ),
    Story(
        key="anthropic-claude-release",
        when="2026-11-24T17:00",
        feed="anthropic-news",
        title="Introducing Claude Opus 5",
        alts=[
            "Anthropic releases Claude Opus 5",
            "Claude Opus 5 is here, with a 1M context window for all users",
            "Anthropic's Opus 5 tops coding leaderboards",
        ],
        lead=(
            "Claude Opus 5 is our most intelligent model yet, and the best model in the world "
            "for coding, agents and computer use. It sustains focus on tasks lasting many "
            "hours, makes far fewer errors in long tool-use chains and now offers a 1M-token "
            "context window to every paid user. Pricing stays at $15 per million input tokens."
        ),
        copies="hn title 1; techpress rewrite 1; newsletter prefix 2; gnews gnews 3; "
        "reddit reddit 1; bizdaily trunc 3",
        alt_first=(
            "Anthropic on Tuesday released Claude Opus 5, which it calls the best model in the "
            "world for coding, agents and computer use."
        ),
    ),
    Story(
        key="anthropic-rsp-update",
        when="2026-11-24T19:00",
        feed="anthropic-news",
        title="Updates to our Responsible Scaling Policy",
        alts=[
            "Anthropic revises its Responsible Scaling Policy",
            "Anthropic tightens RSP thresholds",
        ],
        lead=(
            "We are publishing version 3.0 of our Responsible Scaling Policy. The update adds a "
            "capability threshold for autonomous AI research, requires an external review "
            "before any model crosses an ASL-4 threshold, and commits us to publishing "
            "summaries of capability evaluations within 30 days of each frontier release."
        ),
        copies="policy rewrite 1; hn title 0",
        alt_first=("Anthropic on Tuesday published version 3.0 of its Responsible Scaling Policy."),
    ),
    Story(
        key="meta-llama-5",
        when="2026-11-20T17:00",
        feed="meta-ai",
        city="MENLO PARK",
        title="Llama 5: open models for the agentic era",
        alts=[
            "Meta releases Llama 5 in three sizes",
            "Meta's Llama 5 is out, with a 2T-parameter Behemoth preview",
            "Llama 5 launches with a more restrictive licence",
        ],
        lead=(
            "Today we're releasing Llama 5 Scout and Llama 5 Maverick, natively multimodal "
            "mixture-of-experts models with 10M and 1M token context windows, and previewing "
            "Llama 5 Behemoth, a 2-trillion-parameter teacher model still in training. The "
            "models can be downloaded from llama.example and Hugging Face under the Llama 5 "
            "Community License."
        ),
        copies="techpress rewrite 1; hn title 1; reddit reddit 2; globalwire dateline 3; "
        "newsletter trunc 1",
        alt_first=(
            "Meta on Thursday released Llama 5 Scout and Llama 5 Maverick, natively "
            "multimodal mixture-of-experts models with 10M and 1M token context windows."
        ),
    ),
    Story(
        key="meta-poaches-google",
        when="2026-11-20T12:00",
        feed="bizdaily",
        title="Meta hires Google's Gemini post-training lead",
        alts=["Google's Gemini post-training chief leaves for Meta"],
        lead=(
            "Meta has hired the researcher who led post-training for Google's Gemini models, "
            "the latest in a string of senior hires for its Superintelligence Labs. The "
            "researcher, who spent eight years at Google Brain and DeepMind, will report to "
            "Meta's chief AI scientist, people familiar with the matter said."
        ),
        copies="techpress same 1; newsletter prefix 0",
    ),
    Story(
        key="xai-layoffs",
        when="2026-11-14T22:00",
        feed="techpress",
        title="xAI lays off 200 data annotators as it shifts to synthetic data",
        alts=["xAI cuts 200 annotation jobs", "xAI lets go of a third of its data-labelling team"],
        lead=(
            "xAI has laid off about 200 people from its data-annotation team, roughly a third "
            "of the group, as it shifts training of its Grok models towards synthetic data "
            "and AI tutors, according to an internal email. Affected staff were told their "
            "access would end the same day and that they would be paid through the end of "
            "the month."
        ),
        copies="hn title 0; globalwire dateline 2; newsletter trunc 0; techpress repost 0",
    ),
    Story(
        key="sparse-memory-paper",
        when="2026-11-11T06:00",
        feed="research",
        title="Sparse Memory Layers Scale Retrieval-Augmented Agents",
        alts=["Sparse memory layers for retrieval-augmented agents [pdf]"],
        lead=(
            "We introduce sparse memory layers, a drop-in replacement for dense feed-forward "
            "blocks that stores key-value memories addressed by product keys. On multi-hop "
            "question answering, agents with sparse memory layers match retrieval-augmented "
            "baselines with 4x less retrieval and cut hallucinated citations by 37%."
        ),
        copies="deepmind-blog same 0; hn title 1",
    ),
    Story(
        key="generated-worlds-blog",
        when="2026-11-11T15:00",
        feed="deepmind-blog",
        title="Training agents inside generated worlds",
        alts=["DeepMind trains agents inside worlds generated by Genie 4"],
        lead=(
            "Our new work trains generalist agents entirely inside interactive worlds produced "
            "by Genie 4, our world model. Agents trained on a million generated environments "
            "transfer to unseen 3D games and to a real robot arm, suggesting that generated "
            "worlds can stand in for hand-built simulators."
        ),
        copies="hn title 0; newsletter trunc 0",
    ),
    Story(
        key="agentic-rag-verifier",
        when="2026-11-08T06:00",
        feed="research",
        title="Agentic RAG with Verifier Feedback",
        alts=["Verifier feedback cuts hallucinated citations in agentic RAG [pdf]"],
        lead=(
            "Retrieval-augmented agents often cite passages that do not support their claims. "
            "We train a lightweight verifier that scores each citation during generation and "
            "feeds the score back to the agent as a tool result. On three long-form QA "
            "benchmarks, verifier feedback reduces unsupported citations from 21% to 6%."
        ),
        copies="hn hn 1",
    ),
    Story(
        key="tsmc-2nm-ai",
        when="2026-11-06T05:00",
        feed="chipwire",
        city="TAIPEI",
        title="TSMC says AI accelerators will take half of its 2nm capacity in 2027",
        alts=[
            "AI chips to fill half of TSMC's 2nm lines next year",
            "TSMC: AI demand claims 50% of 2nm output",
        ],
        lead=(
            "TSMC expects AI accelerators to account for about half of its 2-nanometre wafer "
            "capacity in 2027, up from a quarter planned a year ago, a senior executive told "
            "investors in Taipei on Friday. The company is converting two additional fabs in "
            "Kaohsiung to the node and raised its capital spending forecast to $48 billion."
        ),
        copies="globalwire dateline 0; techpress same 1; bizdaily trunc 2",
    ),
    Story(
        key="openai-device",
        when="2026-11-26T18:00",
        feed="bizdaily",
        title="OpenAI and io show their first device: a screenless pocket companion",
        alts=[
            "OpenAI's first hardware is a screenless pocket companion",
            "First look at the OpenAI-io device",
            "OpenAI unveils its first device, shipping in spring",
        ],
        lead=(
            "OpenAI and io, the design firm it acquired last year, showed their first device on "
            "Thursday: a palm-sized companion with no screen that listens, sees through two "
            "cameras and talks back. It will ship in the US next spring for $349, the companies "
            "said, with a ChatGPT subscription included for the first year."
        ),
        copies="techpress prefix 0; globalwire dateline 3; hn title 1; gnews gnews 3; "
        "newsletter trunc 1",
    ),
    Story(
        key="apple-gemini-siri",
        when="2026-11-02T20:00",
        feed="bizdaily",
        city="CUPERTINO",
        title="Apple to pay Google about $1B a year for Gemini-powered Siri",
        alts=["Apple picks Gemini to power the new Siri", "Siri will run on a custom Gemini model"],
        lead=(
            "Apple has agreed to pay Google roughly $1 billion a year for a custom 1.2-trillion-"
            "parameter Gemini model that will power a revamped Siri, according to people "
            "familiar with the arrangement. The model will run on Apple's Private Cloud Compute "
            "servers, so user data is not shared with Google. The new Siri is expected in "
            "spring."
        ),
        copies="techpress same 1; globalwire dateline 2; hn title 0; newsletter prefix 1",
    ),
    Story(
        key="microsoft-maia-200",
        when="2026-11-18T16:00",
        feed="chipwire",
        city="REDMOND",
        title="Microsoft rolls out Maia 200 chips in Azure data centres",
        alts=["Microsoft's second AI chip, Maia 200, goes into service"],
        lead=(
            "Microsoft said on Wednesday that its second-generation AI accelerator, Maia 200, "
            "is now serving Copilot and Azure OpenAI traffic in data centres in Iowa and "
            "Arizona. Built on TSMC's 3nm process with 216 GB of HBM3E, the chip offers 30% "
            "better performance per dollar than the hardware it replaces, Microsoft said."
        ),
        copies="techpress same 1; hn title 1",
    ),
    Story(
        key="cerebras-ipo",
        when="2026-11-13T14:30",
        feed="venture",
        title="Cerebras prices IPO at $38 a share, raising $1.1B",
        alts=["Cerebras raises $1.1B in Nasdaq debut", "AI chipmaker Cerebras goes public"],
        lead=(
            "Cerebras Systems priced its initial public offering at $38 a share, above the "
            "marketed range, raising $1.1 billion and valuing the AI chipmaker at about $9 "
            "billion. Shares begin trading on the Nasdaq on Thursday under the ticker CBRS. "
            "The company's revenue has tripled this year on demand for inference."
        ),
        copies="globalwire dateline 1; bizdaily same 2; chipwire trunc 0; gnews gnews 1; venture repost 0",
    ),
    Story(
        key="perplexity-browser-lawsuit",
        when="2026-11-16T19:00",
        feed="techpress",
        city="NEW YORK",
        title="News publishers sue Perplexity over its Comet browser agent",
        alts=[
            "Publishers file suit against Perplexity's Comet",
            "Perplexity faces copyright suit from 14 news publishers",
        ],
        lead=(
            "Fourteen news publishers sued Perplexity in federal court in New York on Monday, "
            "alleging that its Comet browser agent bypasses paywalls and reproduces articles "
            "for users without a licence. The suit seeks damages and an injunction. Perplexity "
            "said it would fight the claims and that Comet only acts on a user's behalf."
        ),
        copies="globalwire dateline 2; policy same 1; hn title 0; techpress repost 0",
    ),
    Story(
        key="vllm-011-release",
        when="2026-11-07T18:00",
        feed="vllm-releases",
        title="v0.11.0",
        alts=["vLLM 0.11 released: V1 engine by default, speculative decoding speedups"],
        lead=(
            "vLLM v0.11.0. Highlights: the V1 engine is now the default for all models; "
            "speculative decoding with EAGLE-3 is up to 2.1x faster; new support for "
            "DeepSeek-V4, Llama 5 and Qwen4; the legacy V0 engine has been removed. "
            "Full changelog: v0.10.2...v0.11.0"
        ),
        copies="hn title 1; reddit reddit 1",
    ),
    Story(
        key="figure-robots-bmw",
        when="2026-11-04T13:00",
        feed="techpress",
        city="SPARTANBURG",
        title="Figure's humanoid robots start full shifts at BMW's Spartanburg plant",
        alts=["Figure 03 robots now work full shifts at BMW", "BMW expands humanoid robot trial"],
        lead=(
            "Figure AI's humanoid robots are now working full ten-hour shifts at BMW's plant in "
            "Spartanburg, South Carolina, moving sheet-metal parts between stations. BMW said "
            "30 Figure 03 units are deployed and that it will decide next year whether to roll "
            "them out at plants in Germany."
        ),
        copies="globalwire dateline 1; newsletter trunc 2",
    ),
    Story(
        key="uk-aisi-report",
        when="2026-11-23T09:00",
        feed="policy",
        city="LONDON",
        title="UK AI Security Institute finds frontier models can complete week-long cyber tasks",
        alts=[
            "AISI: frontier AI models now finish week-long hacking tasks",
            "UK institute warns on AI cyber capabilities",
        ],
        lead=(
            "The UK AI Security Institute said on Monday that the most capable frontier models "
            "it tested can now complete cyber-offence tasks that take human experts about a week, "
            "up from a day in its previous report. The institute tested seven models from five "
            "companies and published results without naming which model achieved which score."
        ),
        copies="eu-digest same 1; techpress rewrite 2; hn title 1",
        alt_first=(
            "Frontier AI models can now finish cyber-offence tasks that take human experts "
            "about a week, Britain's AI Security Institute said on Monday."
        ),
    ),
    Story(
        key="stability-sale",
        when="2026-11-25T11:00",
        feed="venture",
        city="LONDON",
        title="Stability AI explores a sale after talks with two buyers",
        alts=["Stability AI is up for sale, sources say"],
        lead=(
            "Stability AI has hired bankers to explore a sale and has held early talks with "
            "two potential buyers, including a large media company, according to three people "
            "familiar with the process. The London-based maker of Stable Diffusion has seen "
            "revenue grow from licensing deals with film studios this year."
        ),
        copies="globalwire dateline 1; techpress prefix 0",
    ),
    Story(
        key="ollama-cloud",
        when="2026-11-21T16:00",
        feed="devweekly",
        title="Ollama launches paid cloud models alongside local ones",
        alts=["Ollama adds a cloud tier", "Ollama Turbo: run big models in the cloud from the CLI"],
        lead=(
            "Ollama, the popular tool for running models locally, now offers a paid cloud "
            "service that runs larger open models such as DeepSeek-V4 and Llama 5 Maverick on "
            "datacentre GPUs behind the same command-line interface. The service costs $20 a "
            "month and the company says prompts are not logged."
        ),
        copies="hn title 2; reddit reddit 0",
    ),
    Story(
        key="cursor-raise",
        when="2026-11-18T13:00",
        feed="venture",
        title="Anysphere, maker of Cursor, raises $2.3B at a $29B valuation",
        alts=[
            "Cursor maker Anysphere nearly triples its valuation",
            "Cursor's parent raises $2.3B",
        ],
        lead=(
            "Anysphere, the company behind the Cursor coding editor, has raised $2.3 billion in "
            "a round led by Accel and Coatue that values it at $29.3 billion, nearly triple its "
            "valuation in June. Annualised revenue has passed $1 billion, the company said, "
            "and it plans to spend the money on training its own models."
        ),
        copies="techpress same 1; bizdaily dateline 2; newsletter trunc 1; hn title 0",
    ),
    Story(
        key="cognition-raise",
        when="2026-11-19T13:00",
        feed="venture",
        title="Cognition raises $500M as Devin revenue climbs",
        alts=["Devin maker Cognition lands $500M round"],
        lead=(
            "Cognition, the start-up behind the Devin coding agent and the Windsurf editor, "
            "has raised $500 million at a $12 billion valuation, led by Founders Fund. The "
            "company said enterprise customers now run more than a million Devin sessions a "
            "week, and that it will open offices in London and Bangalore."
        ),
        copies="techpress same 1",
    ),
    Story(
        key="amazon-anthropic-rainier",
        when="2026-11-09T15:00",
        feed="bizdaily",
        city="SEATTLE",
        title="Amazon switches on Project Rainier's second phase for Anthropic",
        alts=["Project Rainier doubles to a million Trainium chips"],
        lead=(
            "Amazon has brought the second phase of Project Rainier online, doubling the "
            "Indiana supercomputer it built for Anthropic to roughly one million Trainium 3 "
            "chips. Anthropic is using the cluster to train its next Claude models, Amazon "
            "said, and a third phase in Mississippi is under construction."
        ),
        copies="globalwire dateline 1; techpress trunc 0; hn title 1",
    ),
    Story(
        key="hf-acquires",
        when="2026-11-27T10:00",
        feed="techpress",
        title="Hugging Face acquires robotics start-up Pollen's rival, Kinetix",
        alts=["Hugging Face buys Kinetix to expand open-source robotics"],
        lead=(
            "Hugging Face has acquired Kinetix, a Lyon start-up that makes low-cost robot arms "
            "for research labs, for an undisclosed sum. The deal adds hardware engineers to "
            "the company's LeRobot team, which will release Kinetix's designs and firmware as "
            "open source early next year."
        ),
        copies="eu-digest same 1; hn title 1",
    ),
    Story(
        key="california-sb-ai-lawsuit",
        when="2026-11-10T20:00",
        feed="policy",
        city="SACRAMENTO",
        title="Industry group sues to block California's frontier AI transparency law",
        alts=["Tech group challenges California AI law in court"],
        lead=(
            "A technology trade group filed suit in federal court on Tuesday to block parts of "
            "California's frontier AI transparency law, arguing that its incident-reporting "
            "rules compel speech and conflict with federal export controls. The law requires "
            "developers of the largest models to publish safety frameworks and report critical "
            "incidents within 15 days."
        ),
        copies="techpress same 1; globalwire dateline 0",
    ),
    Story(
        key="samsung-hbm4-nvidia",
        when="2026-11-25T02:00",
        feed="chipwire",
        city="SEOUL",
        title="Samsung passes Nvidia qualification for HBM4",
        alts=["Samsung's HBM4 cleared for Nvidia's Rubin", "Samsung wins Nvidia HBM4 nod"],
        lead=(
            "Samsung Electronics has passed Nvidia's qualification tests for its 12-layer HBM4 "
            "memory and will begin supplying it for the Rubin accelerator platform in the first "
            "quarter, people familiar with the matter said. The approval ends two years in which "
            "SK Hynix supplied most of Nvidia's high-bandwidth memory."
        ),
        copies="globalwire dateline 1; techpress same 2; bizdaily trunc 0",
    ),
    Story(
        key="sk-hynix-profit",
        when="2026-11-25T23:00",
        feed="chipwire",
        city="SEOUL",
        title="SK Hynix warns HBM prices will fall as Samsung enters Nvidia supply chain",
        alts=["SK Hynix shares slide on HBM price outlook"],
        lead=(
            "SK Hynix told analysts on Wednesday that it expects contract prices for HBM to "
            "fall by a high single-digit percentage next year as competition increases, sending "
            "its shares down 6% in Seoul. The company said its sales volume of HBM4 would still "
            "more than double."
        ),
        copies="globalwire dateline 1",
    ),
    Story(
        key="github-copilot-agent",
        when="2026-11-12T17:00",
        feed="devweekly",
        title="GitHub makes the Copilot coding agent available on every plan",
        alts=["Copilot's coding agent comes to free GitHub accounts"],
        lead=(
            "GitHub said on Wednesday that the Copilot coding agent, which takes an issue and "
            "opens a pull request on its own, is now available on every plan, including free "
            "accounts with 50 agent sessions a month. Business customers can now choose between "
            "models from OpenAI, Anthropic and Google for the agent."
        ),
        copies="techpress same 1; hn title 0; newsletter trunc 1",
    ),
    Story(
        key="openai-gpt55",
        when="2026-11-26T17:00",
        feed="openai-news",
        title="Introducing GPT-5.5",
        alts=["OpenAI releases GPT-5.5", "GPT-5.5 is out with a cheaper mini variant"],
        lead=(
            "Today we're releasing GPT-5.5, a new version of our flagship model that is faster, "
            "better at long-horizon agentic tasks and more reliable at following instructions. "
            "GPT-5.5 is available to all ChatGPT users today, and to developers in the API at "
            "$1.25 per million input tokens, alongside GPT-5.5 mini."
        ),
        copies="hn title 1; techpress rewrite 2; newsletter prefix 1; gnews gnews 1",
        alt_first=(
            "OpenAI on Thursday released GPT-5.5, a new version of its flagship model that is "
            "faster and better at long-horizon agentic tasks."
        ),
    ),
    Story(
        key="openai-gpt5-codex-update",
        when="2026-11-05T17:00",
        feed="openai-news",
        title="Codex now runs GPT-5.1-Codex-Max by default",
        alts=["OpenAI updates Codex with GPT-5.1-Codex-Max"],
        lead=(
            "Codex now uses GPT-5.1-Codex-Max by default for cloud tasks and in the CLI. The "
            "model works coherently over millions of tokens through compaction, completes "
            "multi-hour refactors and uses 30% fewer thinking tokens than GPT-5.1-Codex at "
            "the same quality."
        ),
        copies="hn title 1; devweekly same 0",
    ),
    Story(
        key="character-ai-minors",
        when="2026-11-08T14:00",
        feed="techpress",
        title="Character.AI ends open-ended chat for users under 18",
        alts=["Character.AI bans minors from open-ended chats"],
        lead=(
            "Character.AI will stop allowing users under 18 to have open-ended conversations "
            "with its chatbots from 25 November, replacing them with a story mode for younger "
            "users. The company said it would use age-assurance technology and set up an "
            "independent AI safety lab."
        ),
        copies="policy same 1; globalwire dateline 0; hn title 1",
    ),
    Story(
        key="runway-world-model",
        when="2026-11-15T16:00",
        feed="techpress",
        city="NEW YORK",
        title="Runway releases a general world model for robotics and games",
        alts=["Runway's GWM-2 simulates interactive worlds in real time"],
        lead=(
            "Runway on Saturday released GWM-2, a general world model that generates "
            "interactive environments in real time from a text prompt or an image. The company "
            "is licensing the model to robotics firms for training data and said two game "
            "studios are using it to prototype levels."
        ),
        copies="newsletter same 1; hn title 1",
    ),
    Story(
        key="softbank-stargate-ohio",
        when="2026-11-04T21:00",
        feed="bizdaily",
        city="TOKYO",
        title="SoftBank picks Ohio for next Stargate data centre",
        alts=["Stargate's next 1.5GW site will be in Ohio"],
        lead=(
            "SoftBank said on Wednesday that the next Stargate data-centre campus will be built "
            "in Lordstown, Ohio, with 1.5 gigawatts of capacity when complete in 2028. SoftBank "
            "will own the site and lease it to OpenAI; construction starts in January."
        ),
        copies="globalwire dateline 1; techpress same 0",
    ),
    Story(
        key="arxiv-policy",
        when="2026-11-02T16:00",
        feed="techpress",
        title="arXiv stops accepting computer-science review papers without peer review",
        alts=["arXiv tightens rules for CS review and position papers"],
        lead=(
            "arXiv's computer-science section will no longer accept review articles and "
            "position papers unless they have already passed peer review, its moderators said, "
            "citing a flood of low-quality surveys generated with language models. Research "
            "papers are not affected."
        ),
        copies="hn title 0; research trunc 0",
    ),
    Story(
        key="waymo-london",
        when="2026-11-22T10:00",
        feed="techpress",
        city="LONDON",
        title="Waymo starts driverless testing in London",
        alts=["Waymo brings robotaxis to London streets"],
        lead=(
            "Waymo has begun fully driverless testing in central London, with no safety driver "
            "on board, ahead of a planned commercial launch next year. The Alphabet company "
            "said its vehicles have driven 100,000 miles in the city with safety drivers since "
            "the spring."
        ),
        copies="globalwire dateline 1; eu-digest trunc 0; hn title 0",
    ),
    Story(
        key="nvidia-market-blurb",
        when="2026-11-20T14:45",
        feed="streetticker",
        title="Nvidia shares rise 4.1% after record quarter",
        alts=["NVDA up 4.1% in early trade"],
        lead=(
            "Shares of Nvidia Corp (NVDA) rose 4.1% to $212.40 in early trading on Thursday "
            "after the chipmaker reported record data-centre revenue and raised its outlook. "
            "The stock has gained 58% so far this year, compared with an 18% rise in the "
            "Nasdaq Composite."
        ),
        copies="marketpulse same 1",
    ),
    Story(
        key="amd-market-blurb",
        when="2026-11-20T14:50",
        feed="streetticker",
        title="AMD shares rise 2.3% as chip stocks rally",
        alts=["AMD up 2.3% in early trade"],
        lead=(
            "Shares of Advanced Micro Devices Inc (AMD) rose 2.3% to $178.10 in early trading on "
            "Thursday as chip stocks rallied after Nvidia's results. The stock has gained 41% so "
            "far this year, compared with an 18% rise in the Nasdaq Composite."
        ),
        copies="marketpulse same 1",
    ),
    Story(
        key="arm-market-blurb",
        when="2026-11-20T15:05",
        feed="marketpulse",
        title="Arm shares fall 1.2% despite chip rally",
        alts=[],
        lead=(
            "Shares of Arm Holdings plc (ARM) fell 1.2% to $141.60 in early trading on Thursday "
            "even as chip stocks rallied after Nvidia's results. The stock has gained 12% so far "
            "this year, compared with an 18% rise in the Nasdaq Composite."
        ),
        copies="",
    ),
    # --- Chinese stories with Chinese copies --------------------------------------------------
    Story(
        key="qwen4-open-source",
        when="2026-11-14T02:00",
        feed="jiqi",
        lang="zh",
        title="通义千问 Qwen4 系列开源：覆盖 0.6B 至 480B，原生支持多模态输入",
        alts=[
            "阿里开源 Qwen4 全家桶：8 个模型，最大 4800 亿参数",
            "Qwen4 来了！原生多模态，支持 130 种语言",
        ],
        lead=(
            "阿里云通义千问团队开源 Qwen4 系列模型，包含 6 个稠密模型与 2 个混合专家模型，参数规模从 "
            "6 亿到 4800 亿不等，全部采用 Apache 2.0 协议。新模型原生支持图像与音频输入，覆盖 130 "
            "种语言。"
        ),
        copies="liangzi source 1; xinzhi prefix 2; kechuang trunc 1",
        others=[
            (
                "techpress",
                "xlang",
                "en",
                "Alibaba open-sources Qwen4, from 0.6B to 480B parameters",
                "Alibaba's Qwen team released the Qwen4 family under the Apache 2.0 licence: six "
                "dense models and two mixture-of-experts models ranging from 600 million to 480 "
                "billion parameters, with native image and audio input in 130 languages.",
            ),
        ],
    ),
    Story(
        key="qwen-lead-departs",
        when="2026-11-14T06:00",
        feed="jiqi",
        lang="zh",
        title="通义千问团队一位技术负责人离职，据悉将加入字节跳动 Seed",
        alts=[
            "千问核心技术负责人离职，下一站或为字节 Seed",
            "又一位大模型负责人出走：千问技术骨干加盟字节",
        ],
        lead=(
            "多位知情人士透露，阿里通义千问团队负责后训练的一位技术负责人已于近日离职，据悉将加入字节"
            "跳动 Seed 团队。该负责人曾主导 Qwen2.5 与 Qwen3 的对齐工作。阿里方面回应称，人员流动属"
            "正常现象，Qwen4 的研发与开源计划不受影响。"
        ),
        copies="liangzi same 1; xinzhi source 2",
    ),
    Story(
        key="bytedance-seed-agent",
        when="2026-11-11T06:00",
        feed="jiqi",
        lang="zh",
        title="字节跳动开源 Seed-Agent 框架，支持多智能体协作与检索增强",
        alts=["字节 Seed 团队开源智能体框架 Seed-Agent"],
        lead=(
            "字节跳动 Seed 团队开源了智能体框架 Seed-Agent，支持多个智能体分工协作、检索增强生成"
            "（RAG）以及长任务的断点续跑，采用 Apache 2.0 协议。团队表示，该框架已在内部与火山引擎的"
            "客服与代码评审场景中使用一年以上。"
        ),
        copies="liangzi same 1; kechuang suffix 0",
    ),
    Story(
        key="zhipu-ipo",
        when="2026-11-16T01:30",
        feed="kechuang",
        lang="zh",
        title="智谱 AI 科创板 IPO 获受理，拟募资 80 亿元",
        alts=["智谱冲刺科创板：拟募资 80 亿元，估值超 600 亿", "大模型第一股？智谱 IPO 申请获受理"],
        lead=(
            "上交所网站显示，北京智谱华章科技股份有限公司科创板上市申请已获受理，公司拟募集资金 80 亿"
            "元，主要用于新一代基座模型研发与算力建设。招股书显示，智谱 2025 年营收约 12 亿元，净亏损"
            "收窄至 21 亿元，最近一轮融资后估值超过 600 亿元。"
        ),
        copies="jiqi same 1; liangzi prefix 2; xinzhi trunc 1",
        others=[
            (
                "bizdaily",
                "xlang",
                "en",
                "Zhipu AI files for Shanghai STAR Market listing",
                "Beijing-based Zhipu AI has filed to list on Shanghai's STAR Market, seeking to "
                "raise 8 billion yuan for model research and computing capacity. The company "
                "had revenue of about 1.2 billion yuan last year.",
            ),
        ],
    ),
    Story(
        key="zhipu-glm5",
        when="2026-11-16T08:00",
        feed="jiqi",
        lang="zh",
        title="智谱发布 GLM-5：编程能力比肩 Claude，开源 355B 版本",
        alts=["GLM-5 正式发布，开源权重同步上线"],
        lead=(
            "IPO 申请获受理当天，智谱发布新一代基座模型 GLM-5，并同步开源 3550 亿参数的混合专家版本。"
            "官方称，GLM-5 在智能体编程基准上与 Claude 旗舰模型相当，API 定价为每百万输入 token 4 元。"
        ),
        copies="xinzhi same 1; liangzi trunc 0",
    ),
    Story(
        key="huawei-ascend-960",
        when="2026-11-20T03:00",
        feed="kechuang",
        lang="zh",
        title="华为发布昇腾 960 芯片，单卡算力较 950 提升一倍",
        alts=["昇腾 960 亮相：自研 HBM，算力翻倍", "华为昇腾路线图更新：960 明年一季度出货"],
        lead=(
            "华为在全联接大会上发布昇腾 960 芯片，采用自研高带宽内存，单卡 FP8 算力较昇腾 950 提升一倍，"
            "互联带宽提升至 4 TB/s。华为表示，昇腾 960 将于明年一季度出货，并组成超节点集群，"
            "最大规模可达 15488 卡。"
        ),
        copies="jiqi same 1; liangzi source 2; xinzhi prefix 0",
    ),
    Story(
        key="huawei-ascend-950-shipping",
        when="2026-11-06T03:00",
        feed="kechuang",
        lang="zh",
        title="华为昇腾 950 开始批量交付，首批客户为三大运营商",
        alts=["昇腾 950 量产交付，运营商率先采购"],
        lead=(
            "记者从产业链获悉，华为昇腾 950 芯片已开始向客户批量交付，首批客户包括中国移动、中国电信"
            "和中国联通。业内人士估计，今年第四季度交付量约为 10 万颗，主要用于运营商自建的智算中心。"
        ),
        copies="jiqi same 1",
    ),
    Story(
        key="moonshot-funding",
        when="2026-11-24T05:00",
        feed="liangzi",
        lang="zh",
        title="月之暗面完成新一轮 6 亿美元融资，估值达 38 亿美元",
        alts=["月之暗面再融 6 亿美元，腾讯领投"],
        lead=(
            "据知情人士透露，月之暗面已完成新一轮约 6 亿美元融资，由腾讯领投，阿里巴巴与红杉中国跟投，"
            "投后估值约 38 亿美元。本轮资金将主要用于 Kimi K3 的后续训练与海外市场拓展。"
        ),
        copies="jiqi same 1; kechuang trunc 0; xinzhi suffix 1",
    ),
    Story(
        key="baidu-ernie-5",
        when="2026-11-13T02:00",
        feed="xinzhi",
        lang="zh",
        title="百度发布文心大模型 5.0，原生全模态架构",
        alts=["文心 5.0 发布：2.4 万亿参数，原生全模态", "百度世界大会：文心 5.0 正式亮相"],
        lead=(
            "在百度世界大会上，百度发布文心大模型 5.0。该模型采用原生全模态统一建模，总参数量达 2.4 "
            "万亿，支持文本、图像、音频与视频的理解和生成。百度表示，文心 5.0 已在文心一言与百度搜索中"
            "上线。"
        ),
        copies="jiqi same 1; liangzi prefix 2; kechuang same 2",
    ),
    Story(
        key="baidu-kunlun-chip",
        when="2026-11-13T06:00",
        feed="kechuang",
        lang="zh",
        title="百度昆仑芯公布未来五年路线图，M100 芯片明年上市",
        alts=["昆仑芯 M100 明年上市，百度披露芯片路线图"],
        lead=(
            "百度在世界大会上公布了昆仑芯未来五年的产品路线图：面向推理的 M100 芯片将于明年初上市，"
            "面向训练的 M300 计划于 2027 年推出。百度还发布了由 256 张昆仑芯组成的天池超节点。"
        ),
        copies="xinzhi same 1",
    ),
    Story(
        key="minimax-m3",
        when="2026-11-27T04:00",
        feed="liangzi",
        lang="zh",
        title="MiniMax 开源 M3：每秒输出 200 token，价格仅为同类模型一成",
        alts=["MiniMax M3 开源，主打智能体与低价"],
        lead=(
            "MiniMax 今日开源新一代模型 MiniMax-M3，总参数 2300 亿、激活 100 亿，面向编程与智能体"
            "场景优化。官方称，M3 每秒可输出约 200 个 token，API 价格约为同级别闭源模型的十分之一。"
        ),
        copies="jiqi same 1; xinzhi trunc 0",
    ),
    Story(
        key="unitree-ipo",
        when="2026-11-21T02:00",
        feed="kechuang",
        lang="zh",
        title="宇树科技科创板 IPO 过会，人形机器人第一股呼之欲出",
        alts=["宇树科技 IPO 过会"],
        lead=(
            "上交所上市审核委员会审议通过了杭州宇树科技股份有限公司的首发申请。宇树科技主营四足与人形"
            "机器人，招股书显示，公司 2025 年营收约 18 亿元，其中人形机器人收入占比接近三成。"
        ),
        copies="jiqi same 1; liangzi source 0",
    ),
    Story(
        key="cac-ai-label-rules",
        when="2026-11-18T09:00",
        feed="jiqi",
        lang="zh",
        title="网信办就 AI 生成内容标识执法细则征求意见",
        alts=["AI 生成内容标识新规征求意见：平台须主动检测"],
        lead=(
            "国家网信办发布《人工智能生成合成内容标识执法细则（征求意见稿）》，要求内容平台对未添加显式"
            "标识的 AI 生成内容进行主动检测并补充标识，违规情节严重的将被责令暂停相关服务。意见反馈截止"
            "日期为 12 月 18 日。"
        ),
        copies="kechuang same 1; xinzhi suffix 0",
    ),
]


# --- singletons: one item, one story ----------------------------------------------------------

SINGLES: list[tuple[str, str, str, str, str]] = [
    # (feed, when, lang, title, summary)
    (
        "deepseek-releases",
        "2026-11-10T02:30",
        "en",
        "DeepSeek-V4 v4.0.1",
        "Patch release for DeepSeek-V4. Weights are unchanged; update the inference code and "
        "configs. Fixes: Fix RoPE scaling for prompts longer than 512K tokens. FP8 attention "
        "kernels for Hopper and Blackwell now default on. Tool-call JSON no longer truncated "
        "when the response hits max_tokens.",
    ),
    (
        "deepseek-releases",
        "2026-11-02T03:00",
        "en",
        "DeepSeek-V3.2 v3.2.2",
        "Maintenance release for DeepSeek-V3.2. Fixes: Chat template: tool results are no "
        "longer wrapped twice. Updated vLLM and SGLang launch recipes.",
    ),
    (
        "deepseek-releases",
        "2026-11-21T06:00",
        "en",
        "DeepSeek-V4.1 (release candidate 1)",
        "Pre-release. Weights for evaluation only; the API still serves V4.0. Changes since "
        "v4.0.1: Improved instruction following in Chinese and English (+2.3 on internal "
        "IFEval-style suite). Function calling: parallel tool calls are now emitted in a single "
        "message. New reasoning_effort parameter shared with DeepSeek-R2.",
    ),
    (
        "vllm-releases",
        "2026-11-12T19:00",
        "en",
        "v0.11.1",
        "vLLM v0.11.1. Highlights: speculative decoding with EAGLE-3 now supports Qwen4 MoE; "
        "FP8 KV cache on Blackwell is up to 1.4x faster; fixes for DeepSeek-V4 tool calling and "
        "Llama 5 chat templates. Full changelog: v0.11.0...v0.11.1",
    ),
    (
        "vllm-releases",
        "2026-11-19T19:00",
        "en",
        "v0.11.2",
        "vLLM v0.11.2. Highlights: support for DeepSeek-R2 and V4-Lite; prefix caching is now "
        "on by default for multimodal models; fixes for Llama 5 chat templates and AMD MI355X "
        "kernels. Full changelog: v0.11.1...v0.11.2",
    ),
    (
        "newsletter",
        "2026-11-04T07:00",
        "en",
        "The Tokenizer, 4 November: DeepSeek's big week",
        "Today: what V4's pricing means for everyone else, a hiring drive in Hangzhou, and the "
        "benchmark nobody can agree on. Plus: five papers worth your time.",
    ),
    (
        "newsletter",
        "2026-11-11T07:00",
        "en",
        "The Tokenizer, 11 November: Flash, memory and world models",
        "Today: Gemini 3.5 Flash's price cut, DeepMind's generated worlds, and why sparse "
        "memory layers might matter more than another scaling run. Plus: five papers worth "
        "your time.",
    ),
    (
        "newsletter",
        "2026-11-18T07:00",
        "en",
        "The Tokenizer, 18 November: Apache 2.0 and a €600M deal",
        "Today: Mistral opens Large 3 and buys Relais, Gemini 3.5 Pro arrives, and a look at "
        "who is winning the agent-framework wars. Plus: five papers worth your time.",
    ),
    (
        "hn",
        "2026-11-05T12:00",
        "en",
        "Ask HN: How are you hiring ML engineers in 2026?",
        "We're a 30-person startup and every senior ML candidate we talk to has three offers "
        "from labs. What has worked for you?",
    ),
    (
        "hn",
        "2026-11-09T20:00",
        "en",
        "Show HN: I built a local RAG over my email with a 4B model",
        "Article URL: https://mailrag.example Comments URL: "
        "https://news.ycombinator.example/item?id=45811201 Points: 212 # Comments: 97",
    ),
    (
        "hn",
        "2026-11-13T15:00",
        "en",
        "Our Slack bot pinged @everyone at 3am: a postmortem",
        "Article URL: https://blog.opsnotes.example/slack-bot-postmortem Comments URL: "
        "https://news.ycombinator.example/item?id=45843377 Points: 388 # Comments: 141",
    ),
    (
        "hn",
        "2026-11-22T16:00",
        "en",
        "Tokenizers are the last hand-written part of LLMs",
        "Article URL: https://essays.example/tokenizers Comments URL: "
        "https://news.ycombinator.example/item?id=45902115 Points: 147 # Comments: 88",
    ),
    (
        "hn",
        "2026-11-25T09:00",
        "en",
        "Why we moved our inference from GPUs to TPUs",
        "Article URL: https://eng.fastchat.example/tpu-migration Comments URL: "
        "https://news.ycombinator.example/item?id=45921876 Points: 96 # Comments: 54",
    ),
    (
        "reddit",
        "2026-11-06T21:00",
        "en",
        "Qwen3-30B-A3B still my daily driver after two months, AMA",
        "submitted by /u/quantized_kate [link] [comments]",
    ),
    (
        "reddit",
        "2026-11-14T11:00",
        "en",
        "Benchmark: 4x RTX 5090 vs one RTX Pro 6000 for 70B inference",
        "submitted by /u/localmaxxer [link] [comments]",
    ),
    (
        "reddit",
        "2026-11-23T13:00",
        "en",
        "PSA: new llama.cpp build fixes the V4-Lite chat template",
        "submitted by /u/gguf_enjoyer [link] [comments]",
    ),
    (
        "research",
        "2026-11-03T06:00",
        "en",
        "DeepSeek-V4 Technical Report",
        "We present DeepSeek-V4, a mixture-of-experts language model trained on 33 trillion "
        "tokens. We describe learned sparse attention, which reduces attention cost for "
        "million-token contexts by 9x, our FP8 training recipe and multi-token prediction.",
    ),
    (
        "research",
        "2026-11-12T06:00",
        "en",
        "DeepSeek-R2: Incentivizing Long-Horizon Reasoning via Reinforcement Learning",
        "We introduce DeepSeek-R2, trained from DeepSeek-V4-Base with group relative policy "
        "optimisation over verifiable rewards in maths, code and agentic tasks, and show that "
        "thinking budgets beyond 100K tokens keep improving accuracy.",
    ),
    (
        "research",
        "2026-11-11T06:30",
        "en",
        "Scaling Laws for Sparse Memory Retrieval",
        "We measure how memory-layer capacity trades off against model width across 120 "
        "training runs, and find that memory parameters are 3x as efficient as dense "
        "parameters for knowledge-heavy tasks up to 2B memory slots.",
    ),
    (
        "research",
        "2026-11-05T06:00",
        "en",
        "Reward Hacking in Agentic Coding Benchmarks",
        "We audit four popular agentic coding benchmarks and find that frontier agents "
        "modify tests or special-case inputs in 7-19% of 'solved' tasks. We release a "
        "hardened version of each benchmark and a detector for test tampering.",
    ),
    (
        "research",
        "2026-11-17T06:00",
        "en",
        "Long-Context Retrieval Is Not Long-Context Reasoning",
        "Needle-in-a-haystack scores saturate, yet models fail at tasks that require combining "
        "facts spread across a million tokens. We propose a benchmark of 2,400 multi-hop "
        "questions over long documents and evaluate 14 models.",
    ),
    (
        "research",
        "2026-11-19T06:00",
        "en",
        "Distilling Reasoning Traces into Small Models Without Teacher Logits",
        "We show that sequence-level distillation from reasoning traces alone transfers most "
        "of a teacher's maths ability to 1.5B-parameter students, and study which traces help.",
    ),
    (
        "research",
        "2026-11-24T06:00",
        "en",
        "Process Reward Models for Tool-Using Agents",
        "We train step-level reward models on 80,000 annotated agent trajectories and use them "
        "for search at inference time, improving task success on web-navigation benchmarks by "
        "11 points.",
    ),
    (
        "deepmind-blog",
        "2026-11-04T15:00",
        "en",
        "AlphaFold 4 predicts protein dynamics, not just structures",
        "AlphaFold 4 models how proteins move, predicting ensembles of conformations that "
        "agree with molecular-dynamics simulations at a fraction of the cost.",
    ),
    (
        "deepmind-blog",
        "2026-11-25T15:00",
        "en",
        "Our approach to evaluating dangerous capabilities in Gemini 3.5",
        "We describe the evaluations we ran before releasing Gemini 3.5, covering cyber, "
        "biology, autonomy and persuasion, and the mitigations we applied.",
    ),
    (
        "openai-news",
        "2026-11-13T17:00",
        "en",
        "Sora 3 is rolling out to Pro users",
        "Sora 3 generates up to 60 seconds of video with synchronised dialogue and sound "
        "effects and can now keep characters consistent across scenes.",
    ),
    (
        "openai-news",
        "2026-11-19T17:00",
        "en",
        "ChatGPT group chats are now available worldwide",
        "Invite up to 20 people into a conversation with ChatGPT. Group chats use GPT-5.1 and "
        "keep your personal memory private from the group.",
    ),
    (
        "anthropic-news",
        "2026-11-06T17:00",
        "en",
        "Claude for Financial Services adds Excel agent",
        "Claude can now build and audit financial models directly in Excel, with connectors to "
        "market data providers.",
    ),
    (
        "meta-ai",
        "2026-11-07T17:00",
        "en",
        "SAM 4: segmenting anything in video, in 3D",
        "Segment Anything Model 4 tracks objects across long videos and lifts masks into 3D "
        "scenes from a single camera.",
    ),
    (
        "mistral-news",
        "2026-11-03T08:00",
        "en",
        "Mistral Code is now generally available",
        "Our coding assistant for enterprises is out of beta, with on-premises deployment and "
        "fine-tuning on private repositories.",
    ),
    (
        "nvidia-newsroom",
        "2026-11-19T21:20",
        "en",
        "NVIDIA Announces Financial Results for Third Quarter Fiscal 2027",
        "Record quarterly revenue of $71.2 billion, up 22% from Q2 and up 58% from a year ago. "
        "Record quarterly Data Center revenue of $61.0 billion.",
    ),
    (
        "nvidia-newsroom",
        "2026-11-16T17:00",
        "en",
        "NVIDIA and Siemens Partner to Build Industrial AI Factories in Europe",
        "The partnership combines Siemens' automation portfolio with NVIDIA Omniverse and "
        "Blackwell systems for factory-scale digital twins.",
    ),
    (
        "techpress",
        "2026-11-07T12:00",
        "en",
        "Researcher pay races past $10M as labs fight over a few hundred people",
        "Compensation packages for top AI researchers have passed $10 million a year at "
        "several labs, recruiters say, as companies compete for a pool of a few hundred people "
        "with experience training frontier models.",
    ),
    (
        "techpress",
        "2026-11-21T12:00",
        "en",
        "Inside the race to build AI data centres in the desert",
        "In West Texas and the UAE, developers are building gigawatt campuses next to gas "
        "fields. We visited three sites to see how they deal with heat and water.",
    ),
    (
        "techpress",
        "2026-11-26T09:00",
        "en",
        "Correction: DeepSeek hiring story",
        "An earlier version of this article misstated the number of positions. DeepSeek is "
        "hiring for more than 300 roles, not 3,000.",
    ),
    (
        "globalwire",
        "2026-11-10T08:00",
        "en",
        "Japan's SoftBank posts quarterly profit on OpenAI stake gains",
        "TOKYO, Nov 10 (Global Wire) - SoftBank Group reported a net profit of 2.5 trillion yen "
        "for the July-September quarter, driven by valuation gains on its stake in OpenAI.",
    ),
    (
        "globalwire",
        "2026-11-18T08:00",
        "en",
        "India launches $1.2B sovereign AI compute programme",
        "NEW DELHI, Nov 18 (Global Wire) - India's government approved a $1.2 billion "
        "programme to buy 40,000 GPUs for start-ups and universities over three years.",
    ),
    (
        "globalwire",
        "2026-11-27T08:00",
        "en",
        "Saudi Arabia's Humain signs chip deals with AMD and Qualcomm",
        "RIYADH, Nov 27 (Global Wire) - Humain, the AI company owned by Saudi Arabia's sovereign "
        "fund, signed agreements to buy accelerators from AMD and Qualcomm for data centres "
        "opening in 2027.",
    ),
    (
        "venture",
        "2026-11-04T14:00",
        "en",
        "Fluxon raises $60M Series B to build GPU schedulers",
        "Fluxon, which makes software that packs training jobs onto GPU clusters, raised $60 "
        "million in a Series B led by Index Ventures.",
    ),
    (
        "venture",
        "2026-11-06T14:00",
        "en",
        "Veritas Labs raises $45M Series B to build AI auditors",
        "Veritas Labs, which makes software that audits model outputs for compliance, raised "
        "$45 million in a Series B led by Lightspeed.",
    ),
    (
        "venture",
        "2026-11-20T14:00",
        "en",
        "Harvey raises $300M at an $8B valuation",
        "Legal AI start-up Harvey raised $300 million led by Kleiner Perkins, its third round "
        "this year.",
    ),
    (
        "venture",
        "2026-11-25T14:00",
        "en",
        "Physical Intelligence raises $600M for robot foundation models",
        "The San Francisco start-up raised $600 million at a $5.6 billion valuation to train "
        "general-purpose models for robots.",
    ),
    (
        "bizdaily",
        "2026-11-03T12:00",
        "en",
        "Why Wall Street is nervous about AI capex again",
        "Hyperscalers will spend more than $500 billion on data centres next year. Investors "
        "are asking when the revenue shows up.",
    ),
    (
        "bizdaily",
        "2026-11-17T12:00",
        "en",
        "Salesforce cuts 1,000 support jobs, citing AI agents",
        "Salesforce said it would cut about 1,000 customer-support roles as its Agentforce "
        "agents now handle half of incoming cases.",
    ),
    (
        "bizdaily",
        "2026-11-24T12:00",
        "en",
        "Intel wins Apple as a foundry customer for low-end M-series chips",
        "Apple will use Intel's 18A process for some entry-level M-series chips from 2027, "
        "people familiar with the matter said.",
    ),
    (
        "chipwire",
        "2026-11-09T05:00",
        "en",
        "AMD MI400 samples ship to OpenAI and Oracle",
        "AMD has begun shipping samples of its MI400 accelerator to OpenAI and Oracle ahead of "
        "volume production in the second quarter.",
    ),
    (
        "chipwire",
        "2026-11-14T05:00",
        "en",
        "Broadcom books a fourth custom AI chip customer",
        "Broadcom said a fourth hyperscale customer has placed production orders for a custom "
        "accelerator, worth more than $10 billion.",
    ),
    (
        "chipwire",
        "2026-11-27T05:00",
        "en",
        "Groq opens a 200MW inference site in Finland",
        "Groq's new Finnish data centre runs on hydro power and will serve European customers "
        "from January.",
    ),
    (
        "policy",
        "2026-11-04T10:00",
        "en",
        "US Senate committee advances AI preemption bill",
        "The Senate Commerce Committee voted 15-13 to advance a bill that would bar states from "
        "enforcing their own AI laws for ten years.",
    ),
    (
        "policy",
        "2026-11-20T10:00",
        "en",
        "Japan's AI Promotion Act guidelines published",
        "Japan published guidelines under its AI Promotion Act, asking developers to disclose "
        "training data sources on request.",
    ),
    (
        "policy",
        "2026-11-26T10:00",
        "en",
        "Getty and Stability settle UK copyright case",
        "Getty Images and Stability AI settled the remaining claims in their UK copyright case "
        "on undisclosed terms.",
    ),
    (
        "eu-digest",
        "2026-11-06T09:00",
        "en",
        "Aleph Alpha pivots fully to government contracts",
        "The German company said it would stop training frontier models and focus on "
        "sovereign deployments for public administration.",
    ),
    (
        "eu-digest",
        "2026-11-13T09:00",
        "en",
        "France's AI gigafactory shortlist names four sites",
        "The French government shortlisted four sites for an EU-funded AI gigafactory, "
        "including two in the Grand Est region.",
    ),
    (
        "eu-digest",
        "2026-11-24T09:00",
        "en",
        "Commission proposes delaying parts of the AI Act by a year",
        "The digital omnibus would push back obligations for high-risk systems to December "
        "2027 and simplify documentation for small firms.",
    ),
    (
        "devweekly",
        "2026-11-03T16:00",
        "en",
        "Python 3.15 alpha adds a JIT on by default for some platforms",
        "The first alpha of Python 3.15 enables the experimental JIT by default on x86-64 "
        "Linux builds.",
    ),
    (
        "devweekly",
        "2026-11-08T16:00",
        "en",
        "LangGraph 1.0 is out",
        "The agent-orchestration library reaches 1.0 with durable execution and a stable API.",
    ),
    (
        "devweekly",
        "2026-11-26T16:00",
        "en",
        "PyTorch 2.10 brings FP4 training support",
        "PyTorch 2.10 adds FP4 training kernels for Blackwell and a new compiled autograd mode.",
    ),
    (
        "streetticker",
        "2026-11-06T14:45",
        "en",
        "Nvidia shares fall 2.8% ahead of earnings",
        "Shares of Nvidia Corp (NVDA) fell 2.8% to $196.10 in early trading on Friday as "
        "investors trimmed positions before the chipmaker's results. The stock has gained 49% "
        "so far this year.",
    ),
    (
        "marketpulse",
        "2026-11-13T14:45",
        "en",
        "Cerebras shares jump 41% in Nasdaq debut",
        "Shares of Cerebras Systems (CBRS) opened at $53.60 in their Nasdaq debut on Thursday, "
        "41% above the IPO price of $38.",
    ),
    (
        "gnews",
        "2026-11-08T10:00",
        "en",
        "What 2026's AI talent war means for start-ups - Business Daily",
        "What 2026's AI talent war means for start-ups  Business Daily",
    ),
    (
        "gnews",
        "2026-11-16T10:00",
        "en",
        "Opinion: open weights are winning - TechPress",
        "Opinion: open weights are winning  TechPress",
    ),
    (
        "techpress",
        "2026-11-15T10:00",
        "en",
        "",
        "",
    ),
    (
        "newsletter",
        "2026-11-15T10:00",
        "en",
        "",
        "",
    ),
    # Same feed, same template, different events: what the same-feed rule is for
    (
        "anthropic-status",
        "2026-11-25T09:12",
        "en",
        "Elevated errors on Claude Opus 5",
        "Investigating - We are currently investigating elevated error rates on Claude Opus 5 "
        "affecting the API and claude.ai. We will provide an update within 30 minutes.",
    ),
    (
        "anthropic-status",
        "2026-11-27T15:40",
        "en",
        "Elevated errors on Claude Sonnet 5",
        "Investigating - We are currently investigating elevated error rates on Claude Sonnet 5 "
        "affecting the API and claude.ai. We will provide an update within 30 minutes.",
    ),
    (
        "anthropic-status",
        "2026-11-28T02:05",
        "en",
        "Elevated errors on Claude Opus 5",
        "Investigating - We are currently investigating elevated error rates on Claude Opus 5 "
        "affecting the Console and Claude Code. We will provide an update within 30 minutes.",
    ),
    (
        "openai-status",
        "2026-11-20T13:00",
        "en",
        "Increased latency for ChatGPT",
        "We are investigating reports of increased latency for ChatGPT users on web and mobile. "
        "Some conversations may fail to load. We will post an update as soon as we know more.",
    ),
    (
        "openai-status",
        "2026-11-26T19:30",
        "en",
        "Increased latency for the Responses API",
        "We are investigating reports of increased latency for requests to the Responses API. "
        "Some requests may time out. We will post an update as soon as we know more.",
    ),
    (
        "hn",
        "2026-11-02T16:00",
        "en",
        "Ask HN: Who is hiring? (November 2026)",
        "Please state the location and include REMOTE for remote work, REMOTE (US) or similar "
        "if the country is restricted, and ONSITE when remote work is not an option. Please "
        "only post if you personally are part of the hiring company.",
    ),
    (
        "hn",
        "2026-11-02T16:01",
        "en",
        "Ask HN: Freelancer? Seeking freelancer? (November 2026)",
        "Share your information if you are looking for work as a freelancer or want to hire "
        "one. Please include REMOTE if you work remotely and the location if you do not. "
        "Please only post if you personally are part of the hiring company or the freelancer.",
    ),
    # Chinese singletons
    (
        "jiqi",
        "2026-11-06T01:30",
        "zh",
        "2026 秋招观察：大模型算法岗薪资中位数上涨 18%，应届博士总包普遍超 80 万",
        "据多家招聘平台数据，2026 年秋季校园招聘中，大模型算法岗位薪资中位数同比上涨约 18%，头部公司"
        "应届博士总包普遍超过 80 万元。与此同时，传统计算机视觉岗位需求下降。",
    ),
    (
        "jiqi",
        "2026-11-19T01:30",
        "zh",
        "清华团队提出稀疏记忆层新方法，检索次数减少四分之三",
        "清华大学团队提出一种新的稀疏记忆层结构，在多跳问答任务上以四分之一的检索次数达到检索增强"
        "基线的效果。论文已被 ICLR 2027 接收。",
    ),
    (
        "liangzi",
        "2026-11-07T01:30",
        "zh",
        "实测 DeepSeek-V4：百万上下文真能用吗？",
        "我们用三本长篇小说和一个大型代码库测试了 DeepSeek-V4 的长上下文能力，结果有惊喜也有失望。",
    ),
    (
        "liangzi",
        "2026-11-12T09:00",
        "zh",
        "深度求索发布推理模型 R2，思考长度可达 20 万 token",
        "深度求索今日发布推理模型 DeepSeek-R2，基于 V4 基座通过大规模强化学习训练，思考长度最高可达 "
        "20 万 token，并同步开源 7B、32B、70B 三个蒸馏版本。",
    ),
    (
        "liangzi",
        "2026-11-12T11:00",
        "zh",
        "深度求索同日开源 V4-Lite：160 亿参数，单张显卡即可运行",
        "继 R2 之后，深度求索同日开源轻量模型 DeepSeek-V4-Lite，总参数 160 亿、激活 28 亿，支持 "
        "25.6 万 token 上下文，4 比特量化后可在单张 24GB 显卡上运行。",
    ),
    (
        "xinzhi",
        "2026-11-09T01:30",
        "zh",
        "李飞飞团队发布空间智能模型 Marble 2",
        "World Labs 发布新一代世界模型 Marble 2，可从单张图片生成可交互的三维场景，并支持导出到"
        "主流游戏引擎。",
    ),
    (
        "xinzhi",
        "2026-11-22T01:30",
        "zh",
        "一文看懂大模型价格战：百万 token 已跌破 1 元",
        "从 DeepSeek 到 MiniMax，国产大模型 API 价格一年内下降九成以上。我们梳理了主要厂商的最新定价。",
    ),
    (
        "kechuang",
        "2026-11-10T01:30",
        "zh",
        "寒武纪三季度营收同比增长 12 倍",
        "寒武纪发布三季报，前三季度营收 46 亿元，同比增长约 12 倍，净利润 11 亿元，主要受益于互联网"
        "厂商的推理芯片采购。",
    ),
    (
        "kechuang",
        "2026-11-25T01:30",
        "zh",
        "摩尔线程登陆科创板，首日大涨 400%",
        "国产 GPU 企业摩尔线程今日在科创板上市，开盘涨幅超过 400%，总市值突破 3000 亿元。",
    ),
    (
        "jiqi",
        "2026-11-27T01:30",
        "zh",
        "阶跃星辰开源 Step-Audio 3 语音大模型",
        "阶跃星辰开源端到端语音模型 Step-Audio 3，支持实时语音对话与 20 种方言识别，采用 Apache 2.0 "
        "协议。",
    ),
]


def build() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for story in STORIES:
        rng = random.Random(f"20261103 {story.key}")  # per story: editing one leaves the rest
        start = datetime.fromisoformat(story.when).replace(tzinfo=UTC)
        rows.append(
            {
                "story": story.key,
                "feed": story.feed,
                "when": start,
                "title": story.title,
                "summary": story.lead,
                "lang": story.lang,
                "variant": "original",
            }
        )
        specs = [spec.strip() for spec in story.copies.split(";") if spec.strip()]
        # An aggregator copies a headline some outlet published, so it comes after that outlet
        # (or after the original, for a headline nobody else used).
        first_with_title = {0: start}
        for spec in sorted(specs, key=lambda spec: spec.split()[1] in AGGREGATORS):
            index = int(spec.split()[2])
            if spec.split()[1] in AGGREGATORS:
                after = first_with_title.get(index, start)
                when = after + timedelta(minutes=rng.randrange(10, 12 * 60))
            else:
                when = start + timedelta(minutes=rng.randrange(20, 36 * 60))
                first_with_title[index] = min(when, first_with_title.get(index, when))
            copy = make_copy(story, spec, when, rng)
            rows.append({"story": story.key, "when": when, "lang": story.lang, **copy})
        for feed, variant, lang, title, summary in story.others:
            when = start + timedelta(minutes=rng.randrange(20, 24 * 60))
            rows.append(
                {
                    "story": story.key,
                    "feed": feed,
                    "when": when,
                    "title": title,
                    "summary": summary,
                    "lang": lang,
                    "variant": variant,
                }
            )
    for n, (feed, when, lang, title, summary) in enumerate(SINGLES):
        rows.append(
            {
                "story": f"single-{n:03d}",
                "feed": feed,
                "when": datetime.fromisoformat(when).replace(tzinfo=UTC),
                "title": title,
                "summary": summary,
                "lang": lang,
                "variant": "original",
            }
        )
    rows.sort(key=lambda row: (row["when"], row["story"]))
    seen: dict[str, int] = {}
    out = []
    for row in rows:
        seen[row["story"]] = seen.get(row["story"], 0) + 1
        out.append(
            {
                "id": f"{row['story']}#{seen[row['story']]}",
                "story": row["story"],
                "feed": row["feed"],
                "first_seen": row["when"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                "title": row["title"],
                "summary": row["summary"],
                "lang": row["lang"],
                "variant": row["variant"],
            }
        )
    return out


def main() -> None:
    rows = build()
    with OUT.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    stories = {row["story"] for row in rows}
    print(f"wrote {len(rows)} items in {len(stories)} stories to {OUT}")


if __name__ == "__main__":
    main()
