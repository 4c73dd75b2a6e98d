#!/usr/bin/env python3
"""Writes the interop corpus: src/test/resources/corpus/*.eml (CRLF line endings).

Each message exercises something DKIM canonicalization or Signet's normalization must get right
(RFC 6376 section 3.4: folding, WSP runs, trailing whitespace, empty bodies, trailing empty lines).
The files are committed; rerun this only to change the corpus:  python3 src/test/scripts/make-corpus.py
Content is deterministic (no clocks, no randomness) so a rerun changes nothing.
"""
import base64
import hashlib
import os
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "resources", "corpus")


def crlf(text):
    """Text written with \\n line endings -> bytes with CRLF; a trailing \\n becomes CRLF too."""
    return text.replace("\n", "\r\n").encode("utf-8")


def blob(seed, size):
    """Deterministic pseudo-random bytes."""
    out = b""
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return out[:size]


def b64_lines(data, width=76):
    text = base64.b64encode(data).decode()
    return "\n".join(text[i:i + width] for i in range(0, len(text), width))


HDR = ("From: Alice Example <alice@example.com>\n"
       "To: Bob <bob@example.net>\n"
       "Date: Tue, 24 Nov 2026 10:00:00 +0000\n")

messages = {}


def msg(name, text):
    messages[name] = crlf(text)


msg("01-plain-text", HDR + "Subject: Plain text\nMessage-ID: <01@example.com>\n\nHello Bob,\n\nA plain message.\n\n-- \nAlice\n")

msg("02-multipart-alternative", HDR + """Subject: Alternative parts
Message-ID: <02@example.com>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt-boundary-02"

This is a multi-part message in MIME format.

--alt-boundary-02
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 7bit

Plain version.

--alt-boundary-02
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 7bit

<html><body><p>HTML <b>version</b>.</p></body></html>

--alt-boundary-02--
""")

msg("03-attachment-base64", HDR + f"""Subject: Report attached
Message-ID: <03@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mixed-03"

--mixed-03
Content-Type: text/plain; charset=us-ascii

The report is attached.

--mixed-03
Content-Type: application/pdf; name="report.pdf"
Content-Disposition: attachment; filename="report.pdf"
Content-Transfer-Encoding: base64

{b64_lines(blob("pdf", 6000))}
--mixed-03--
""")

msg("04-rfc2047-headers", """From: =?UTF-8?B?w4lsb2RpZSBEdXByw6k=?= <elodie@example.com>
To: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.net>
Date: Tue, 24 Nov 2026 10:04:00 +0100
Subject: =?UTF-8?Q?R=C3=A9union_de_l=E2=80=99=C3=A9quipe?= =?UTF-8?B?IOKAlCBqZXVkaQ==?=
Message-ID: <04@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

R=C3=A9union jeudi =C3=A0 10h.
""")

msg("05-smtputf8-raw", """From: Jürgen Groß <jürgen@bücher.example>
To: 山田太郎 <taro@例え.jp>
Cc: Zoë <zoe@example.net>
Date: Tue, 24 Nov 2026 10:05:00 +0900
Subject: Grüße aus Köln — 你好 🚀
Message-ID: <05@bücher.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Hallo! Schöne Grüße, ça va? 日本語のテキスト。
Emoji: 🙂👍
""")

msg("06-long-folded-headers", HDR.replace("To: Bob <bob@example.net>\n", "") + """To: Bob Recipient <bob@example.net>, Carol Recipient <carol@example.net>,
 Dave Recipient <dave@example.net>, Erin Recipient <erin@example.net>,
 Frank Recipient <frank@example.net>, Grace Recipient <grace@example.net>
Subject: A very long subject line that goes on and on and has to be folded
 because it is longer than seventy-eight characters, which RFC 5322 recommends
Message-ID: <06@example.com>
References: <aaaaaaaaaaaaaaaaaaaa@example.com> <bbbbbbbbbbbbbbbbbbbb@example.com>
	<cccccccccccccccccccc@example.com> <dddddddddddddddddddd@example.com>
	<eeeeeeeeeeeeeeeeeeee@example.com>
In-Reply-To: <eeeeeeeeeeeeeeeeeeee@example.com>

Folded headers above.
""")

msg("07-trailing-whitespace-headers", """From: Alice Example <alice@example.com>   
To: Bob <bob@example.net>\t
Date: Tue, 24 Nov 2026 10:07:00 +0000 \t 
Subject: Trailing whitespace   
Message-ID: <07@example.com>  
X-Note: value with trailing tab\t

Body line with trailing spaces   
Body line with trailing tab\t
""")

msg("08-tabs-wsp-runs", """From:Alice Example <alice@example.com>
To:\t\tBob   <bob@example.net>
Date:   Tue, 24 Nov 2026   10:08:00 +0000
Subject: \t lots   of \t  whitespace\t\there
Message-ID: <08@example.com>
X-Folded-WSP: first part
  \t  second part after folding with WSP run

Body   with   runs of    spaces
\tand\ttabs\t\tinside.
  leading spaces   and   trailing   
""")

msg("09-empty-body", HDR + "Subject: Empty body\nMessage-ID: <09@example.com>\n\n")

# No empty line at all: the data ends inside the header block.
msg("10-headers-only", HDR + "Subject: Headers only, no separator\nMessage-ID: <10@example.com>\n")

msg("11-body-only-blank-lines", HDR + "Subject: Body of blank lines\nMessage-ID: <11@example.com>\n\n\n\n\n\n")

msg("12-trailing-blank-lines", HDR + "Subject: Trailing blank lines\nMessage-ID: <12@example.com>\n\nText, then empty lines.\n\n\n\n\n")

messages["13-no-trailing-crlf"] = crlf(HDR + "Subject: Last line without CRLF\nMessage-ID: <13@example.com>\n\nFirst line.\nLast line has no line ending.").rstrip(b"\r\n")

msg("14-duplicate-headers", """Received: from app1.example.com (app1.example.com [192.0.2.10])
\tby mx.example.com with ESMTP id AAA111; Tue, 24 Nov 2026 10:14:02 +0000
Received: from app2.example.com (app2.example.com [192.0.2.11])
\tby app1.example.com with ESMTP id BBB222; Tue, 24 Nov 2026 10:14:01 +0000
Received: from localhost by app2.example.com with local id CCC333;
\tTue, 24 Nov 2026 10:14:00 +0000
From: Alice Example <alice@example.com>
To: Bob <bob@example.net>
To: Carol <carol@example.net>
Comments: first comment
Comments: second comment
Keywords: alpha, beta
Keywords: gamma
Date: Tue, 24 Nov 2026 10:14:00 +0000
Subject: Duplicate header fields
Message-ID: <14@example.com>

Several Received, To, Comments and Keywords fields.
""")

msg("15-lowercase-header-names", """from: Alice Example <alice@example.com>
to: Bob <bob@example.net>
date: Tue, 24 Nov 2026 10:15:00 +0000
subject: lowercase field names
message-id: <15@example.com>
mime-version: 1.0
content-type: text/plain; charset=us-ascii

Field names in lower case.
""")

messages["16-8bit-latin1-body"] = crlf(HDR + """Subject: 8bit ISO-8859-1 body
Message-ID: <16@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: 8bit

""") + "Grüße aus Köln, ça va? Smørrebrød. Ünïcödé £ ¥ ©\r\n".encode("iso-8859-1") + bytes(range(0x80, 0x100)) + b"\r\n"

long_b64 = base64.b64encode(blob("long", 748 * 4)).decode()  # 998-character lines
msg("17-long-base64-lines", HDR + "Subject: 998-octet base64 lines\nMessage-ID: <17@example.com>\nMIME-Version: 1.0\n"
    "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
    + "\n".join(long_b64[i:i + 998] for i in range(0, len(long_b64), 998)) + "\n")

msg("18-quoted-printable", HDR + """Subject: Quoted-printable body
Message-ID: <18@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

This line is long enough that the quoted-printable encoder had to insert a s=
oft line break in the middle of it, as RFC 2045 section 6.7 requires.
Equals sign: a =3D b. Trailing space kept with an encoded space:=20
Caf=C3=A9 cr=C3=A8me br=C3=BBl=C3=A9e.=20=20
""")

msg("19-calendar-invite", HDR + """Subject: Invitation: Planning @ Thu 26 Nov 2026 10:00
Message-ID: <19@example.com>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="cal-19"

--cal-19
Content-Type: text/plain; charset=utf-8

You are invited to Planning, Thursday 10:00-11:00.

--cal-19
Content-Type: text/calendar; charset=utf-8; method=REQUEST
Content-Transfer-Encoding: 7bit

BEGIN:VCALENDAR
PRODID:-//Example//Calendar 1.0//EN
VERSION:2.0
METHOD:REQUEST
BEGIN:VEVENT
UID:19-planning@example.com
DTSTAMP:20261124T100000Z
DTSTART:20261126T100000Z
DTEND:20261126T110000Z
SUMMARY:Planning
ORGANIZER;CN=Alice Example:mailto:alice@example.com
ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=
 TRUE;CN=Bob:mailto:bob@example.net
DESCRIPTION:Quarterly planning\\, agenda to follow.
END:VEVENT
END:VCALENDAR

--cal-19--
""")

msg("20-dsn-report", """From: Mail Delivery System <MAILER-DAEMON@example.com>
To: alice@example.com
Date: Tue, 24 Nov 2026 10:20:00 +0000
Subject: Undelivered Mail Returned to Sender
Message-ID: <20@example.com>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="dsn-20"

--dsn-20
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

Your message could not be delivered to <nobody@example.net>.

--dsn-20
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com
Arrival-Date: Tue, 24 Nov 2026 10:19:00 +0000

Final-Recipient: rfc822; nobody@example.net
Original-Recipient: rfc822;nobody@example.net
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.net>: Recipient address
    rejected: User unknown in virtual mailbox table

--dsn-20
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: Alice Example <alice@example.com>
To: nobody@example.net
Subject: hello

--dsn-20--
""")

msg("21-list-headers", """From: Example News <news@example.com>
To: subscriber@example.net
Date: Tue, 24 Nov 2026 10:21:00 +0000
Subject: Weekly newsletter
Message-ID: <21@example.com>
List-Id: Example News <news.example.com>
List-Unsubscribe: <https://example.com/unsubscribe?id=abc123>,
 <mailto:unsubscribe@example.com?subject=unsubscribe>
List-Unsubscribe-Post: List-Unsubscribe=One-Click
List-Archive: <https://example.com/archive>
Precedence: bulk
Feedback-ID: 21:newsletter:example

This week's news.
""")

msg("22-no-date-no-message-id", "From: alice@example.com\nTo: bob@example.net\nSubject: Date and Message-ID are added\n\nSignet adds Date and Message-ID (RFC 6409 section 8).\n")

msg("23-display-name-comment", """From: "Doe, John (Sales)" (work account) <john.doe@Example.COM> (primary)
To: Bob <bob@example.net>
Date: Tue, 24 Nov 2026 10:23:00 +0000
Subject: Display name with comma, comments, mixed-case domain
Message-ID: <23@example.com>

From has a quoted display name, comments and an upper-case domain.
""")

msg("24-two-authors", """From: Alice <alice@example.com>, carol@example.com
Sender: alice@example.com
To: undisclosed-recipients:;
Date: Tue, 24 Nov 2026 10:24:00 +0000
Subject: Two authors
Message-ID: <24@example.com>

From names two mailboxes, so a Sender says who sent it (RFC 5322 section 3.6.2).
""")

msg("25-quoted-local-part", """From: "john@doe"@example.com
To: "very.(),:;<>[]\\".VERY.\\"very@\\\\ \\"very\\".unusual"@example.net
Date: Tue, 24 Nov 2026 10:25:00 +0000
Subject: Quoted local parts
Message-ID: <25@example.com>

Quoted local parts with @ and specials.
""")

msg("26-nested-multipart", HDR + f"""Subject: Nested multipart with inline image
Message-ID: <26@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer-26"

--outer-26
Content-Type: multipart/alternative; boundary="alt-26"

--alt-26
Content-Type: text/plain; charset=utf-8

See the logo.

--alt-26
Content-Type: multipart/related; boundary="rel-26"

--rel-26
Content-Type: text/html; charset=utf-8

<p>See the logo: <img src="cid:logo@example.com"></p>

--rel-26
Content-Type: image/png
Content-ID: <logo@example.com>
Content-Transfer-Encoding: base64
Content-Disposition: inline; filename="logo.png"

{b64_lines(blob("png", 900))}
--rel-26--

--alt-26--

--outer-26
Content-Type: text/csv; name="data.csv"
Content-Disposition: attachment; filename="data.csv"

id,name
1,alpha
2,beta

--outer-26--
""")

html_line = "<p>" + " ".join(f"word{i}" for i in range(150)) + "</p>"
html_line = html_line[:990]
msg("27-html-long-lines", HDR + "Subject: HTML with long lines\nMessage-ID: <27@example.com>\nMIME-Version: 1.0\n"
    "Content-Type: text/html; charset=utf-8\n\n<html><body>\n" + html_line + "\n" + html_line + "\n</body></html>\n")

msg("28-forwarded-rfc822", HDR + """Subject: Fwd: original
Message-ID: <28@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="fwd-28"

--fwd-28
Content-Type: text/plain

Forwarding the message below.

--fwd-28
Content-Type: message/rfc822

From: Carol <carol@example.org>
To: Alice Example <alice@example.com>
Date: Mon, 23 Nov 2026 09:00:00 +0000
Subject: original
Message-ID: <orig-28@example.org>

The original message.

--fwd-28--
""")

msg("29-whitespace-only-body-lines", HDR + "Subject: Whitespace-only body lines\nMessage-ID: <29@example.com>\n\n"
    "line one\n   \n\t\n \t \nline five  \n\n  \n\t\n")

msg("30-reply-headers", """From: Alice Example <alice@example.com>
Reply-To: Support <support@example.com>
To: Bob <bob@example.net>
Cc: Carol <carol@example.net>, dave@example.net
Date: Tue, 24 Nov 2026 10:30:00 +0000
Subject: Re: Re: Your question
Message-ID: <30@example.com>
In-Reply-To: <q-29@example.net>
References: <q-27@example.net> <q-28@example.com> <q-29@example.net>
Thread-Topic: Your question
Importance: normal

> Is this signed?
Yes.
""")

cc = ",\n ".join(f"user{i:02d} <user{i:02d}@example.net>" for i in range(40))
msg("31-many-cc", HDR + "Cc: " + cc + "\nSubject: Forty Cc recipients\nMessage-ID: <31@example.com>\n\nMany recipients.\n")

msg("32-empty-header-values", HDR + "Subject:\nMessage-ID: <32@example.com>\nX-Empty:\nX-Spaces:    \nKeywords: \n\nEmpty header values above.\n")

msg("33-dots-and-from-lines", HDR + "Subject: Lines starting with dots and From\nMessage-ID: <33@example.com>\n\n"
    ".\n..\n.hidden\nFrom the start of a line\n>From quoted\n. \nend\n")

utf8_text = "Unicode body: ÄÖÜ äöü ß — こんにちは — Привет — مرحبا\n" * 20
msg("34-base64-utf8-text", HDR + "Subject: =?UTF-8?B?" + base64.b64encode("Base64 text — ✓".encode()).decode() + "?=\n"
    "Message-ID: <34@example.com>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
    "Content-Transfer-Encoding: base64\n\n" + b64_lines(utf8_text.encode()) + "\n")

long_subject = "Subject: " + ("long unfolded subject " * 45)[:980]
msg("35-long-unfolded-header", HDR + long_subject + "\nMessage-ID: <35@example.com>\n\nA 989-octet Subject line.\n")

xh = "".join(f"X-Custom-{i:02d}: value {i}\n" for i in range(60))
msg("36-many-x-headers", HDR + "Subject: Sixty custom headers\nMessage-ID: <36@example.com>\n" + xh + "\nBody.\n")

msg("37-subdomain-from", """From: Billing <billing@mail.example.com>
To: customer@example.net
Date: Tue, 24 Nov 2026 10:37:00 +0000
Subject: Invoice 2026-11
Message-ID: <37@mail.example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii
Content-Transfer-Encoding: 7bit

Your invoice is ready.
""")

if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for name, data in messages.items():
        with open(os.path.join(OUT, name + ".eml"), "wb") as f:
            f.write(data)
    print(f"wrote {len(messages)} messages to {os.path.normpath(OUT)}", file=sys.stderr)
