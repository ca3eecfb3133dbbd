#!/usr/bin/python3
"""Closes an X11 window the way a window manager does when its close button is clicked:
a WM_DELETE_WINDOW message (ICCCM), which the app may answer by asking first. The
end-to-end tests run under Xvfb with no window manager, and WebDriver's "close window"
destroys the web view without asking the app, so this is how a test clicks [x].

    /usr/bin/python3 close_window.py TITLE [PID]

Closes every top-level window titled TITLE (of process PID, when given, by
_NET_WM_PID); exits 1 when there is none.
"""

import sys

from Xlib import X, display, protocol


def main() -> int:
    title = sys.argv[1]
    pid = int(sys.argv[2]) if len(sys.argv) > 2 else None
    d = display.Display()
    root = d.screen().root
    protocols = d.intern_atom("WM_PROTOCOLS")
    delete = d.intern_atom("WM_DELETE_WINDOW")
    net_pid = d.intern_atom("_NET_WM_PID")
    net_name = d.intern_atom("_NET_WM_NAME")
    utf8 = d.intern_atom("UTF8_STRING")
    closed = 0
    for w in root.query_tree().children:
        try:
            # The UTF-8 title (GTK's dialogs carry "ē", "ī", …), else the legacy one.
            p = w.get_full_property(net_name, utf8)
            name = p.value.decode("utf-8") if p else w.get_wm_name()
            if name != title:
                continue
            if pid is not None:
                p = w.get_full_property(net_pid, X.AnyPropertyType)
                if not p or p.value[0] != pid:
                    continue
            if delete not in (w.get_wm_protocols() or []):
                continue
        except Exception:  # a window that went away meanwhile
            continue
        event = protocol.event.ClientMessage(
            window=w, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0])
        )
        w.send_event(event, event_mask=X.NoEventMask)
        closed += 1
    d.flush()
    d.close()
    if not closed:
        print(f"no window titled {title!r} to close", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
