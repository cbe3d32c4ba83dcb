"""A pygame window for ``render_mode="human"`` and for :mod:`maze_env.play` (pygame imported lazily).

A window that nobody can see is an error, not a silent success: :class:`HumanWindow` raises
:class:`NoDisplayError` when there is no display (:func:`display_problem`), when pygame cannot
open one, or when SDL quietly falls back to a driver that draws nowhere. Asking for such a driver
explicitly (``SDL_VIDEODRIVER=dummy``, as the tests and scripted screenshots do) is allowed; the
window then reports :attr:`HumanWindow.headless`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

from maze_env.render.frame import FREE, WALL

STATUS_PX = 24
"""Height in pixels of the text strip under the frame when :meth:`HumanWindow.show` gets a caption."""
HEADLESS_DRIVERS = ("dummy", "offscreen")
"""SDL video drivers that draw into memory only: nothing appears on a screen."""
_HOW = (
    "run it on a desktop session (or over ssh -X); SDL_VIDEODRIVER=NAME tries a given SDL "
    "driver, and SDL_VIDEODRIVER=dummy runs without a window (for scripts: --keys, --screenshot)"
)


class NoDisplayError(RuntimeError):
    """No window can be shown: there is no display, or SDL found no driver that shows one."""


def _requested_drivers(environ: Mapping[str, str]) -> list[str]:
    return [d.strip().lower() for d in environ.get("SDL_VIDEODRIVER", "").split(",") if d.strip()]


def display_problem(
    environ: Mapping[str, str] | None = None, platform: str | None = None
) -> str | None:
    """Why no window can open, judged from the environment before pygame starts; None if it may.

    On Linux and other X11/Wayland systems a window needs ``DISPLAY`` or ``WAYLAND_DISPLAY``,
    unless ``SDL_VIDEODRIVER`` names a driver to use. Windows and macOS always have a display.
    """
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if platform.startswith(("win", "cygwin", "darwin", "emscripten")):
        return None
    if _requested_drivers(environ) or environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    return f"no display: DISPLAY and WAYLAND_DISPLAY are not set, so no window can open; {_HOW}"


class HumanWindow:
    """One pygame window that shows RGB frames at a fixed rate.

    pygame is imported on the first :meth:`show`, never before; the window resizes itself to each
    frame (plus a status strip when a caption is given). Close it with :meth:`close` (idempotent)
    or use it as a context manager.

    Args:
        title: the window's title.
        fps: frames per second :meth:`show` holds to (it sleeps off the rest of each frame);
            ``0`` or ``None`` shows frames as fast as they come.
        key_repeat: ``(delay_ms, interval_ms)``: a held key repeats (``None``: it does not).
    """

    def __init__(
        self, title: str = "maze", fps: float | None = 8, key_repeat: tuple[int, int] | None = None
    ) -> None:
        if fps is not None and fps < 0:
            raise ValueError(f"fps must be >= 0 (0 or None: no limit), got {fps!r}")
        self.title = str(title)
        self.fps = float(fps or 0)
        self.key_repeat = key_repeat
        self.quit_requested = False
        self._pygame: Any = None
        self._screen: Any = None
        self._clock: Any = None
        self._font: Any = None
        self._size: tuple[int, int] | None = None
        self._frame_shape: tuple[int, int] | None = None
        self._driver: str | None = None

    @property
    def is_open(self) -> bool:
        """True between the first :meth:`show` and :meth:`close`."""
        return self._screen is not None

    @property
    def headless(self) -> bool:
        """True once open on a driver that shows nothing (one asked for by ``SDL_VIDEODRIVER``)."""
        return self._driver in HEADLESS_DRIVERS

    def _init_pygame(self) -> Any:
        if self._pygame is None:
            problem = display_problem()
            if problem is not None:
                raise NoDisplayError(problem)
            import pygame

            try:
                pygame.display.init()
            except pygame.error as err:
                raise NoDisplayError(
                    f"no display: pygame cannot start one ({err}); {_HOW}"
                ) from None
            driver = pygame.display.get_driver()
            if driver in HEADLESS_DRIVERS and driver not in _requested_drivers(os.environ):
                pygame.display.quit()
                raise NoDisplayError(
                    f"no display: SDL found no video device and fell back to its {driver!r} "
                    f"driver, which shows nothing; {_HOW}"
                )
            self._driver = driver
            self._pygame = pygame
            self._clock = pygame.time.Clock()
        return self._pygame

    def _open(self, size: tuple[int, int]) -> None:
        pygame = self._init_pygame()
        if self._size != size:
            try:
                self._screen = pygame.display.set_mode(size)
            except pygame.error as err:
                raise NoDisplayError(
                    f"no display: pygame cannot open a window ({err}); {_HOW}"
                ) from None
            self._size = size
            pygame.display.set_caption(self.title)
            if self.key_repeat is not None:
                pygame.key.set_repeat(*self.key_repeat)

    def _status_font(self) -> Any:
        if self._font is None:
            pygame = self._pygame
            pygame.font.init()
            self._font = pygame.font.Font(None, STATUS_PX - 2)
        return self._font

    def show(self, frame: np.ndarray, caption: str | None = None) -> None:
        """Blit ``frame`` (``uint8[H, W, 3]``) and tick the clock at :attr:`fps`.

        ``caption`` is drawn as a text strip under the frame, one :data:`STATUS_PX` line per
        ``"\\n"``-separated line (the window widens if the text needs it). Opens the window on
        the first call. Does not consume key events (see :meth:`pump`), but keeps the window
        responsive.
        """
        frame = np.asarray(frame)
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"frame must be uint8[H, W, 3], got {frame.dtype}{list(frame.shape)}")
        height, width = frame.shape[:2]
        pygame = self._init_pygame()
        texts = []
        if caption is not None:
            font = self._status_font()
            texts = [font.render(line, True, FREE) for line in caption.split("\n")]
        strip = STATUS_PX * len(texts)
        text_w = max((t.get_width() + 8 for t in texts), default=0)
        if self._size is not None and self._frame_shape == (height, width):
            text_w = max(text_w, self._size[0])  # no jitter as the status text changes length
        self._frame_shape = (height, width)
        self._open((max(width, text_w), height + strip))
        self._screen.fill(WALL)
        self._screen.blit(pygame.surfarray.make_surface(frame.swapaxes(0, 1)), (0, 0))
        for i, text in enumerate(texts):
            self._screen.blit(
                text, (4, height + i * STATUS_PX + (STATUS_PX - text.get_height()) // 2)
            )
        pygame.event.pump()
        pygame.display.flip()
        if self.fps > 0:
            self._clock.tick(self.fps)

    def pump(self) -> list[str]:
        """Take the pending events; return the pressed keys' names (``"up"``, ``"r"``, ``"escape"``...).

        Closing the window gives ``"quit"`` and sets :attr:`quit_requested`. Before the window
        opens (or after it closes) this returns ``[]``.
        """
        if self._pygame is None or self._screen is None:
            return []
        pygame = self._pygame
        keys: list[str] = []
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                self.quit_requested = True
                keys.append("quit")
            elif event.type == pygame.KEYDOWN:
                keys.append(pygame.key.name(event.key))
        return keys

    def screenshot(self, path: str) -> None:
        """Save what the window shows now (the frame and its status strip) to an image file."""
        if self._screen is None:
            raise RuntimeError("the window has not shown a frame yet; call show() first")
        self._pygame.image.save(self._screen, str(path))

    def close(self) -> None:
        """Close the window and pygame's display (safe to call twice, or before any show)."""
        if self._pygame is not None:
            self._pygame.display.quit()
        self._pygame = self._screen = self._clock = self._font = None
        self._size = self._frame_shape = None

    def __enter__(self) -> HumanWindow:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 (interpreter shutdown: pygame may be gone already)
            pass


PygameWindow = HumanWindow
"""The name docs/ARCHITECTURE.md uses."""
