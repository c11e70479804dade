"""The patients' chat (Chainlit). Loaded by Chainlit from server.py; patients stay anonymous.

Each answer shows its cited passages as side elements named like the markers in the text
("Källa 1"), a feedback control (thumbs with comment, stored through the data layer below), and an
action that saves the question to the session's list of questions for the next visit."""

from __future__ import annotations

import logging
import re

import chainlit as cl
from chainlit.data.base import BaseDataLayer
from chainlit.types import Feedback, PaginatedResponse, Pagination, ThreadFilter

from assistant import runtime
from assistant.intake import BadQuestion
from assistant.pipeline import Turn
from assistant.records import Answer
from assistant.store import StoreError
from assistant.visits import visit_markdown

log = logging.getLogger(__name__)
MARKER = re.compile(r"\[(\d+)\]")

STARTERS = [
    ("Metotrexat och alkohol", "Får jag dricka alkohol när jag tar metotrexat?"),
    ("Vad är ett skov?", "Vad är ett skov och vad kan jag göra själv?"),
    ("Trött hela tiden", "Varför är jag så trött när jag har RA och vad kan hjälpa?"),
    ("Vaccin", "Vilka vaccin behöver jag när jag tar läkemedel som dämpar immunförsvaret?"),
    ("Inför besöket", "Hur kan jag förbereda mig inför mitt besök på mottagningen?"),
]

WELCOME = (
    "**Välkommen till Kunskapsstöd RA.** Jag svarar på frågor om att leva med reumatoid artrit, bara "
    "utifrån godkända kunskapstexter, och visar alltid varifrån svaret kommer. Jag kan inte ställa "
    "diagnos eller ändra din behandling – det gör ditt vårdteam.\n\n"
    "Vid livshotande tillstånd: ring **112**. Sjukvårdsrådgivning: ring **1177**.\n\n"
    "*Texterna är exempel som projektet har skrivit utifrån offentliga källor (demo). De ersätter inte "
    "ditt vårdteam.*"
)

FEEDBACK_FAILED = "Vi kunde inte spara din återkoppling just nu. Försök gärna igen om en stund."


class FeedbackDataLayer(BaseDataLayer):
    """A Chainlit data layer that keeps feedback in the project's own store (SQLite by default).
    Threads and steps are not kept here: the conversation log is written by on_message."""

    async def upsert_feedback(self, feedback: Feedback) -> str:
        try:
            return await cl.make_async(runtime.store().upsert_feedback)(
                feedback.forId, feedback.value, feedback.comment)
        except StoreError as e:
            log.error("återkoppling kunde inte sparas: %s", e)
            raise RuntimeError(FEEDBACK_FAILED) from e

    async def delete_feedback(self, feedback_id: str) -> bool:
        try:
            await cl.make_async(runtime.store().delete_feedback)(feedback_id)
        except StoreError as e:
            log.error("återkoppling kunde inte tas bort: %s", e)
            raise RuntimeError(FEEDBACK_FAILED) from e
        return True

    # Nothing else is persisted through Chainlit.
    async def get_user(self, identifier):
        return None

    async def create_user(self, user):
        return None

    async def create_element(self, element):
        return None

    async def get_element(self, thread_id, element_id):
        return None

    async def delete_element(self, element_id, thread_id=None):
        return None

    async def create_step(self, step_dict):
        return None

    async def update_step(self, step_dict):
        return None

    async def delete_step(self, step_id):
        return None

    async def get_thread_author(self, thread_id):
        return ""

    async def delete_thread(self, thread_id):
        return None

    async def list_threads(self, pagination: Pagination, filters: ThreadFilter) -> PaginatedResponse:
        return PaginatedResponse(data=[], pageInfo={"hasNextPage": False, "startCursor": None, "endCursor": None})

    async def get_thread(self, thread_id):
        return None

    async def update_thread(self, thread_id, name=None, user_id=None, metadata=None, tags=None):
        return None

    async def build_debug_url(self) -> str:
        return ""

    async def close(self) -> None:
        return None

    async def get_favorite_steps(self, user_id):
        return []


@cl.data_layer
def data_layer() -> BaseDataLayer:
    return FeedbackDataLayer()


@cl.set_starters
async def starters(user=None, language=None):
    return [cl.Starter(label=label, message=message) for label, message in STARTERS]


@cl.set_chat_profiles
async def chat_profiles(user=None, language=None):
    return [cl.ChatProfile(name="Kunskapsstöd RA", markdown_description=WELCOME, icon="/public/logo.svg",
                           starters=[cl.Starter(label=lbl, message=msg) for lbl, msg in STARTERS])]


@cl.on_chat_start
async def start() -> None:
    cl.user_session.set("history", [])


def display_text(answer: Answer) -> str:
    """The answer as shown in the chat: markers become 'Källa n' chips; emergency and urgent replies
    open with their phone number as a heading, so they stand out from ordinary answers."""
    text = MARKER.sub(lambda m: f"Källa {m.group(1)}", answer.answer)
    heading = {"emergency": "## ", "urgent": "### "}.get(answer.kind)
    if heading:
        lead, _, rest = text.partition("\n\n")
        first, _, more = lead.replace("**", "").partition(". ")
        return f"{heading}{first.rstrip('.')}\n\n{more}" + (f"\n\n{rest}" if rest else "")
    return text


def citation_sources(answer: Answer) -> list[tuple[str, str]]:
    """(element name, Markdown content) per citation: the name matches the chip text in the answer."""
    return [(f"Källa {c.n}",
             f"### {c.title}\n**{c.section}**\n\n{c.text}\n\n---\n"
             f"*Text-id: {c.text_id} · version {c.version} · granskas senast {c.review_by}*")
            for c in answer.citations]


def citation_elements(answer: Answer) -> list[cl.Text]:
    return [cl.Text(name=name, content=content, display="side") for name, content in citation_sources(answer)]


def visit_actions(question: str) -> list[cl.Action]:
    return [
        cl.Action(name="visit_add", label="Spara frågan till mitt besök", icon="bookmark-plus",
                  payload={"question": question}, tooltip="Lägg frågan i listan Frågor till mitt besök"),
        cl.Action(name="visit_show", label="Mina besöksfrågor", icon="list", payload={},
                  tooltip="Visa och ladda ner listan"),
    ]


@cl.on_message
async def on_message(message: cl.Message) -> None:
    session_id = cl.context.session.id
    history: list[Turn] = cl.user_session.get("history") or []
    assistant = runtime.assistant()
    try:
        answer = await cl.make_async(assistant.ask)(message.content, history)
    except BadQuestion as e:
        await cl.Message(content=str(e)).send()
        return
    history.append(Turn(answer.question, answer.kind))
    cl.user_session.set("history", history[-10:])
    reply = cl.Message(content=display_text(answer), elements=citation_elements(answer),
                       actions=visit_actions(answer.question))
    await reply.send()
    # Chainlit attaches the thumbs to the run step around on_message, so feedback names that id.
    run = cl.context.current_step
    try:
        await cl.make_async(runtime.store().log_answer)(answer, channel="chat", session_id=session_id,
                                                         message_id=run.id if run else reply.id)
    except StoreError as e:
        log.error("svaret kunde inte loggas: %s", e)


@cl.action_callback("visit_add")
async def visit_add(action: cl.Action) -> None:
    question = str(action.payload.get("question", "")).strip()
    if not question:
        return
    try:
        await cl.make_async(runtime.store().add_visit_question)(cl.context.session.id, question)
        count = len(await cl.make_async(runtime.store().visit_questions)(cl.context.session.id))
    except StoreError as e:
        log.error("besöksfrågan kunde inte sparas: %s", e)
        await cl.Message(content="Frågan kunde inte sparas just nu. Skriv gärna ner den själv.").send()
        return
    await cl.Message(content=f"Sparad i *Frågor till mitt besök* ({count} st).",
                     actions=[visit_actions(question)[1]]).send()


@cl.action_callback("visit_show")
async def visit_show(action: cl.Action) -> None:
    questions = await cl.make_async(runtime.store().visit_questions)(cl.context.session.id)
    if not questions:
        await cl.Message(content="Listan *Frågor till mitt besök* är tom. Spara en fråga med knappen under "
                                 "ett svar.").send()
        return
    markdown = visit_markdown(questions)
    await cl.Message(
        content=f"**Frågor till mitt besök** ({len(questions)} st)\n\n" + "\n".join(f"{i}. {q}" for i, q in
                                                                          enumerate(questions, 1))
        + "\n\nLadda ner listan och ta med den till besöket, eller klistra in den i din vårdplan på 1177.",
        elements=[cl.File(name="fragor-till-mitt-besok.md", content=markdown.encode("utf-8"),
                          mime="text/markdown", display="inline")],
    ).send()
