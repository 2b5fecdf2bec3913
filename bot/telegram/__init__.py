"""The coach on Telegram, through python-telegram-bot.

The same engine, store and timer runner as the terminal door (:mod:`bot.console.chat`);
only the way in and out differs:

- :mod:`.updates` reads a Telegram update as a coach event (or as something else the door
  answers itself: a group, a block, nothing at all);
- :mod:`.poller` long-polls Telegram, confirming an update only once it is handled and
  its reply sent, each chat's updates in order while chats run concurrently;
  :mod:`.processor` does the same ordering for PTB's webhook mode;
- :mod:`.render` turns the coach's actions into Bot API calls, remembering per chat which
  message a pacer edits and which keyboard is still live;
- :mod:`.outbox` sends those calls chat by chat, within Telegram's limits (:mod:`.limits`),
  through flood control, blocked users and network trouble;
- :mod:`.door` ties them to the coach, the timer runner and the scheduler;
  :mod:`.runner` checks the settings (:mod:`.settings`) and starts and stops it all;
  :mod:`.clock` can make coach time run faster, for tests.
"""
