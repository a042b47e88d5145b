"""The kit's own words, in each language a page can be in (English when a language has none)."""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGE_NAMES = {
    "de": "Deutsch",
    "en": "English",
    "es": "Español",
    "fr": "Français",
    "it": "Italiano",
    "pt": "Português",
}

WORDS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "kit": "Share kit",
        "skip": "Skip to the posts",
        "intro": (
            "Pick a post and press the button of your network: your own app opens with the "
            "text filled in, and you press Post yourself. Nothing is posted for you, and "
            "nothing you do here is recorded or sent anywhere until you press a button."
        ),
        "description": (
            "Posts ready to share for {title}: one click opens your own X, Bluesky, Mastodon "
            "or Threads composer with the text filled in."
        ),
        "languages": "Languages",
        "all": "All campaigns",
        "versions": "Wording",
        "version": "Version {n}",
        "version_of": "Version {n} of {count}",
        "post_on": "Post on {network}",
        "copy": "Copy text",
        "copied": "Copied",
        "copy_failed": "Could not copy: select the text and copy it yourself",
        "limits": "Within the limits: {limits}",
        "for": "For {networks}",
        "image": "Image description:",
        "download": "Download the image",
        "video": "Video description:",
        "download_video": "Download the video",
        "cw": "Content warning:",
        "none_fit": "This post is too long for every network's composer: copy it by hand.",
        "no_button": "No {network} button: {reason}.",
        "mastodon_on": "Mastodon posts open on your server, {host}.",
        "change": "Change server",
        "footer": (
            "Made with amplifier. This page loads nothing from any other site: no fonts, no "
            "analytics, no trackers."
        ),
        "chooser_title": "Share on Mastodon",
        "chooser_text": "The text to share:",
        "server": "Your Mastodon server",
        "server_hint": (
            "Its address, for example mastodon.social: the part after the second @ of your "
            "handle. It is remembered in this browser only."
        ),
        "open": "Open my server",
        "forget": "Forget my server",
        "forgotten": "Forgotten.",
        "saved": "Saved: Mastodon buttons now open {host}.",
        "bad_server": "That is not a server address; write it like mastodon.social.",
        "noscript": (
            "Without JavaScript this page cannot open your server. Go back, select the text "
            "of the post, copy it, and paste it into a new post on your Mastodon server."
        ),
        "back": "Back to the share kit",
        "posts": "{count} posts",
    },
    "es": {
        "kit": "Kit para compartir",
        "skip": "Ir a las publicaciones",
        "intro": (
            "Elige una publicación y pulsa el botón de tu red: se abre tu propia aplicación "
            "con el texto escrito, y tú pulsas Publicar. Nadie publica por ti, y nada de lo "
            "que hagas aquí se registra ni se envía a ningún sitio hasta que pulses un botón."
        ),
        "description": (
            "Publicaciones listas para compartir de {title}: un clic abre tu propio editor de "
            "X, Bluesky, Mastodon o Threads con el texto escrito."
        ),
        "languages": "Idiomas",
        "all": "Todas las campañas",
        "versions": "Redacción",
        "version": "Versión {n}",
        "version_of": "Versión {n} de {count}",
        "post_on": "Publicar en {network}",
        "copy": "Copiar el texto",
        "copied": "Copiado",
        "copy_failed": "No se pudo copiar: selecciona el texto y cópialo tú",
        "limits": "Dentro de los límites: {limits}",
        "for": "Para {networks}",
        "image": "Descripción de la imagen:",
        "download": "Descargar la imagen",
        "video": "Descripción del vídeo:",
        "download_video": "Descargar el vídeo",
        "cw": "Aviso de contenido:",
        "none_fit": "Esta publicación es demasiado larga para todas las redes: cópiala a mano.",
        "no_button": "Sin botón de {network}: {reason}.",
        "mastodon_on": "Las publicaciones de Mastodon se abren en tu servidor, {host}.",
        "change": "Cambiar de servidor",
        "footer": (
            "Hecho con amplifier. Esta página no carga nada de ningún otro sitio: ni fuentes, "
            "ni estadísticas, ni rastreadores."
        ),
        "chooser_title": "Compartir en Mastodon",
        "chooser_text": "El texto que compartes:",
        "server": "Tu servidor de Mastodon",
        "server_hint": (
            "Su dirección, por ejemplo mastodon.social: lo que va tras la segunda @ de tu "
            "usuario. Se recuerda solo en este navegador."
        ),
        "open": "Abrir mi servidor",
        "forget": "Olvidar mi servidor",
        "forgotten": "Olvidado.",
        "saved": "Guardado: los botones de Mastodon abren ahora {host}.",
        "bad_server": "Eso no es la dirección de un servidor; escríbela como mastodon.social.",
        "noscript": (
            "Sin JavaScript esta página no puede abrir tu servidor. Vuelve atrás, selecciona el "
            "texto de la publicación, cópialo y pégalo en una publicación nueva de tu servidor."
        ),
        "back": "Volver al kit",
        "posts": "{count} publicaciones",
    },
}


def words(language: str) -> Mapping[str, str]:
    return WORDS.get(language, WORDS["en"])


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)
