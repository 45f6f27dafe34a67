// The interface in Sakha (i18n.js says how texts are written). Every word is one of the sakhaspell
// corpus's (the counts the word LM is built from), or listed with its reason in
// i18n-sah-allowed.json: www/tests/interface-languages.test.mjs checks it. Sakha writes no plural
// after a number, so no text here needs plural forms.

export default {
  "page.title": "sakha-asr — саха саҥатын тиэкискэ кубулутуу",
  "page.description": "Саха саҥатын бу тэрилгэ тиэкискэ кубулутуу. Куолас бу сирэйтэн ханна да тахсыбат.",
  "page.intro": "Саха саҥатын бу тэрилгэ билэр программа. Куолас бу сирэйтэн ханна да тахсыбат.",
  "page.interfaceLanguage": "Сирэй тыла",

  "model.heading": "Модель",
  "model.label": "Модель",
  "model.demo": "Холобур модель (оҥоһуу саҥа, тыл моделын кытта 12 МБ)",
  "model.custom": "Атын модель (model.json аадырыһа)…",
  "model.customUrl": "model.json аадырыһа",
  "model.language": "Тыл",
  "model.load": "Киллэр",
  "lm.switch": "Тыл модела",
  "lm.none": "{language} тылыгар тыл модела суох: тыллар биирдии буукубанан суруллаллар.",
  "lm.on": "Тыллар тылдьыт уонна тыллар пааралара көмөтүнэн талыллаллар.",
  "lm.off": "Араарыллыбыт: тыллар модель истэринэн биирдии буукубанан суруллаллар.",

  "progress.download": "Хачайдааһын",
  "progress.cache": "Бу тэрилтэн",
  "progress.transcribe": "Тиэкискэ кубулутуу",
  "progress.bytes": "{file}: {total:size} иһиттэн {loaded:size}",
  "progress.decoding": "файл ааҕыллар",
  "progress.seconds": "{total:fixed1} с иһиттэн {loaded:fixed1} с",

  "status.loading": "Модель киирэр…",
  "status.cleared": "Хачайдаммыт моделлар бу программаттан сотулунна; аны туттарга хат хачайдаан ылыахха наада.",
  "status.ready": "Бэлэм: {url} · {language} · {quantization} ({source}).",
  "status.switched": "Бэлэм: {url} · {language} · {quantization}.",
  "status.switching": "{language} тылга көһүү…",
  "status.stillUsing": "Урукку тыл хаалла: {language}.",
  "status.failed": "Модель киирбэтэ.",
  "status.wasm": { other: "Үлэлиир: {build}, {count} поток." },
  "source.downloadedStored": "{bytes:size} хачайдаммыт, интэриниэтэ суох туттарга бу тэрилгэ уурулунна",
  "source.downloadedNotStored": "{bytes:size} хачайдаммыт, бу тэрилгэ ууруллубата",
  "source.local": "бу тэрилтэн, хачайдааһына суох",
  "wasm.simd128": "WebAssembly SIMD",
  "wasm.relaxed": "WebAssembly Relaxed SIMD",
  "wasm.threads": "WebAssembly Relaxed SIMD (элбэх поток)",

  "audio.heading": "Дорҕоон",
  "audio.drop": "Дорҕоон файлын манна быраҕыҥ, эбэтэр",
  "audio.choose": "Файлы талыҥ",
  "audio.record": "● Суруй",
  "audio.stop": "■ Тохтот",
  "record.seconds": "{seconds:fixed1} с",

  "transcript.heading": "Тиэкис",
  "transcript.empty": "Өссө туох да суруллубата.",
  "transcript.listening": "Истэбин…",
  "transcript.none": "Саҥа көстүбэтэ.",
  "transcript.recording": "— суруйуу",
  "transcript.wordTime": "{start:fixed2}–{end:fixed2} с",
  "transcript.copy": "Куопуйалаан ыл",
  "transcript.downloadTxt": ".txt хачайдаа",
  "transcript.downloadSrt": ".srt хачайдаа",
  "transcript.downloadVtt": ".vtt хачайдаа",
  "copy.done": "Тиэкис ылылынна.",
  "copy.refused": "Программа куопуйалаан ылары көҥүллээбэтэ: тиэкиһи бэйэҕит талан куопуйалаан ылыҥ.",

  "player.play": "▶ Иһит",
  "player.pause": "❚❚ Тохтот",
  "player.time": "{total:fixed1} с иһиттэн {current:fixed1} с",
  "player.hint": "Тылы баттаан эбэтэр Enter баттаан онтон истиҥ; F2 эбэтэр иккитэ баттааһын тылы көннөрөр. Тыллар ыккардыларынан ← → көһүҥ.",
  "player.correct": "«{word}» тылы көннөр",
  "player.unsure": "{start:fixed2}–{end:fixed2} с · модель бу тылга эрэммэт ({percent} %): көрөн көннөрүҥ",

  "footer.stored": "Моделлар бастакы хачайдааһын кэнниттэн интэриниэтэ суох туттарга бу программаҕа хараллаллар.",
  "footer.clear": "Хачайдаммыт моделлары сот",
  "footer.embed": "Сайтка киллэрии",

  "widget.file": "Файлы тал…",
  "widget.loading": "Саҥаны билэр модель киирэр…",
  "widget.ready": "Бэлэм ({language}).",
  "widget.readyNotStored": "Бэлэм ({language}), интэриниэтэ суох туттарга ууруллубата.",
  "widget.opening": "Микрофон аһыллар…",
  "widget.recording": "Суруллар…",
  "widget.recordingTime": "Суруллар… {seconds:fixed1} с",
  "widget.transcribing": "Тиэкискэ кубулутуу…",
  "widget.done": "Бүттэ.",

  "size.kilobytes": "{value} кБ",
  "size.megabytes": "{value:fixed1} МБ",
  "size.gigabytes": "{value:fixed1} ГБ",

  "title.notFound": "Сервер модель файлын булбата",
  "title.http": "Хачайдааһын табыллыбата",
  "title.network": "Ситим быһынна",
  "title.corrupt": "Алдьаммыт файл",
  "title.format": "Бу моделы туттар сатаммат",
  "title.audio": "Бу дорҕоону туттар сатаммат",
  "title.version": "Барыллар сөп түбэспэттэр",
  "title.settings": "Туруоруу сыыһа",
  "title.aborted": "Тохтотулунна",
  "title.recognizer": "Саҥаны билии табыллыбата",
  "title.unknown": "Туох эрэ сыыһа барда",
  "error.retry": "Өссө боруобалаа",

  "error.unreachable": "{file} файлы хачайдыыр кыах суох: сервергэ тиийэр кыах суох. Ситими бэрэбиэркэлээн баран өссө боруобалааҥ.",
  "error.notFound": "{file} сервергэ көстүбэтэ (HTTP 404, {url}).",
  "error.httpStatus": "{file} файлы хачайдыыр кыах суох: сервер HTTP {status} диэн эппиэттээтэ.",
  "error.brokeOff":
    "{file} хачайдааһына {total:size} иһиттэн {loaded:size} кэнниттэн быһынна. Туох да ууруллубата; саҥаттан хачайдаан көрүҥ.",
  "error.corrupt":
    "{file} алдьаммыт: хат хачайдаан баран да, кини кээмэйэ эбэтэр sha256 model.json суруйарыттан атын. " +
    "Сервергэ сытар файл алдьаммыт эбэтэр атын модель гиэнэ. Туох да ууруллубата.",
  "error.tooLarge":
    "Бу модель программаҕа наһаа улахан: {files:list} {total:size} ылаллар, оттон WebAssembly сирэйгэ саамай элбэҕэ " +
    "{limit:size} батар. Бу моделы sakha-asr программанан компьютерга туһаныҥ.",
  "error.otherSite": "model.json атын сайт файлын ыйар ({origin}); аккаастанна.",
  "error.noLanguage": "Бу модельга «{language}» тыл суох; баар тыллар: {available}.",
  "notice.noSpace":
    "Модель интэриниэтэ суох туттарга ууруллубата, онон интэриниэттэн хачайдаан үлэлиир, аны хат хачайдаан ылыахха наада: миэстэ тиийбэт. " +
    "Уурарга {needed:size} наада. Дискэҕэ миэстэ босхолооҥ эбэтэр атын сайтар дааннайдарын сотуҥ.",
  "notice.noSpaceLeft":
    "Модель интэриниэтэ суох туттарга ууруллубата, онон интэриниэттэн хачайдаан үлэлиир, аны хат хачайдаан ылыахха наада: миэстэ тиийбэт. " +
    "Уурарга {needed:size} наада, оттон бу программа сайтка өссө {free:size} эрэ уурарга көҥүллүүр. " +
    "Дискэҕэ миэстэ босхолооҥ эбэтэр атын сайтар дааннайдарын сотуҥ.",
  "notice.refused":
    "Модель интэриниэтэ суох туттарга ууруллубата, онон интэриниэттэн хачайдаан үлэлиир, аны хат хачайдаан ылыахха наада: " +
    "программа {file} файлы уурбата («{detail}»). Уурарга {needed:size} наада. Кистэлэҥ түннүктэр дааннайы өйдөрүгэр " +
    "тутталлар уонна улахан файллары ылбаттар; көннөрү түннүккэ модель ууруллар.",

  "error.undecodable":
    "Бу программа файлы дорҕоон быһыытынан аахпат. WAV, MP3, OGG, FLAC эбэтэр M4A боруобалааҥ, эбэтэр файлы инники кубулутуҥ.",
  "error.noSamples": "Файлга дорҕоон суох.",
  "error.mp3Failed": "Бу программа MP3 файлы аахпата: {detail}",
  "error.noMicrophoneAccess": "Бу программа микрофону туттарбат (https сирэй наада).",
  "error.microphoneDenied": "Суруйар кыах суох: микрофону туттары көҥүллээбэтилэр.",
  "error.microphoneNotFound": "Суруйар кыах суох: микрофон көстүбэтэ.",
  "error.microphoneFailed": "Суруйар кыах суох: {detail}.",
  "error.recordingStopped": "Бу суруйуу номнуо тохтотуллубут эбэтэр сотуллубут.",
  "error.sampleRate": "sampleRate сөкүүндэҕэ ахсаана толору уонна нуултан улахан буолуохтаах ({value} буолла).",
  "error.transcribeInput": "transcribe File, Blob, дорҕоон файлын ArrayBuffer эбэтэр Float32Array ылар.",
  "error.noModelAttribute": "Модель суох: model атрибут модель model.json аадырыһа буолуохтаах.",

  "error.workerStart": "Саҥаны билэр программа саҕаламмата: {detail}.",
  "error.threadsStalled": "{threads} поток {seconds} с иһигэр саҕаламмата.",
  "error.stopped": "Саҥаны билэр программа тохтотулунна.",
  "error.noModel": "Модель өссө киирэ илик.",
  "error.noStream": "{stream} нүөмэрдээх аһаҕас поток суох: кини бүппүт, сабыллыбыт эбэтэр отой саҕаламмата (startStream).",
  "error.unknownRequest": "Биллибэт көрдөһүү «{type}».",
  "error.abortedBeforeStart": "Саҕаланыан иннинэ тохтотулунна.",
  "error.abortedAfter": "Дорҕоон {total:fixed2} с иһиттэн {seconds:fixed2} с кэнниттэн тохтотулунна.",
  "error.crashed":
    "Саҥаны билэр программа алдьанна ({detail}), баҕар, өйө тиийбэтэ. Сирэйи хат аһыҥ; уһун суруйууга кылгас файлы боруобалааҥ.",
  "error.versionMismatch":
    "Бу сирэй уонна саҥаны билэр программа барыллара сөп түбэспэттэр (протокол {page} уонна {worker}): " +
    "сирэй аһаҕас турдаҕына программа саҥардыллыбыт. Сирэйи хат аһыҥ.",
};
