// The interface in Russian (i18n.js says how texts are written).

export default {
  "page.title": "sakha-asr — распознавание якутской речи в браузере",
  "page.description": "Расшифровка якутской речи на вашем устройстве. Звук не покидает эту страницу.",
  "page.intro": "Распознавание якутской речи прямо на этом устройстве. Ваш звук не покидает страницу.",
  "page.interfaceLanguage": "Язык интерфейса",

  "model.heading": "Модель",
  "model.label": "Модель",
  "model.demo": "Демонстрационная модель (синтезированная речь, 12 МБ вместе с языковой моделью)",
  "model.custom": "Другая модель (адрес её model.json)…",
  "model.customUrl": "Адрес model.json",
  "model.language": "Язык",
  "model.load": "Загрузить",
  "lm.switch": "Языковая модель",
  "lm.none": "У этой модели нет языковой модели для {language}: слова пишутся буква за буквой.",
  "lm.on": "Слова выбираются с помощью словаря и статистики пар слов (лучевой поиск).",
  "lm.off": "Выключена: слова пишутся буква за буквой, как их слышит акустическая модель (жадный поиск).",

  "progress.download": "Скачивание",
  "progress.cache": "С этого устройства",
  "progress.transcribe": "Распознавание",
  "progress.bytes": "{file}: {loaded:size} из {total:size}",
  "progress.decoding": "декодирование",
  "progress.seconds": "{loaded:fixed1} из {total:fixed1} с",

  "status.loading": "Загрузка модели…",
  "status.cleared": "Скачанные модели удалены из этого браузера; при следующей загрузке они скачаются снова.",
  "status.ready": "Готово: {url} · {language} · {quantization} ({source}).",
  "status.switched": "Готово: {url} · {language} · {quantization}.",
  "status.switching": "Переключение на {language}…",
  "status.stillUsing": "Язык остаётся прежним: {language}.",
  "status.failed": "Модель не загружена.",
  "status.wasm": {
    one: "Работает на {build}, {count} поток.",
    few: "Работает на {build}, {count} потока.",
    many: "Работает на {build}, {count} потоков.",
    other: "Работает на {build}, {count} потока.",
  },
  "source.downloadedStored": "скачано {bytes:size}, теперь хранится для работы без сети",
  "source.downloadedNotStored": "скачано {bytes:size}, не сохранено на этом устройстве",
  "source.local": "с этого устройства, без скачивания",
  "wasm.simd128": "WebAssembly SIMD",
  "wasm.relaxed": "WebAssembly Relaxed SIMD",
  "wasm.threads": "WebAssembly Relaxed SIMD с потоками",

  "audio.heading": "Звук",
  "audio.drop": "Перетащите сюда звуковой файл или",
  "audio.choose": "Выберите файл",
  "audio.record": "● Запись",
  "audio.stop": "■ Стоп",
  "record.seconds": "{seconds:fixed1} с",

  "transcript.heading": "Текст",
  "transcript.empty": "Пока ничего не распознано.",
  "transcript.listening": "Слушаю…",
  "transcript.none": "Речь не распознана.",
  "transcript.recording": "— запись",
  "transcript.wordTime": "{start:fixed2}–{end:fixed2} с",
  "transcript.copy": "Копировать",
  "transcript.downloadTxt": "Скачать .txt",
  "transcript.downloadSrt": "Скачать .srt",
  "transcript.downloadVtt": "Скачать .vtt",
  "copy.done": "Скопировано.",
  "copy.refused": "Браузер не дал скопировать: выделите текст и скопируйте его вручную.",

  "player.play": "▶ Слушать",
  "player.pause": "❚❚ Пауза",
  "player.time": "{current:fixed1} из {total:fixed1} с",
  "player.hint": "Щёлкните слово или нажмите на нём Enter, чтобы слушать с него; F2 или двойной щелчок — исправить. Стрелки переходят между словами.",
  "player.correct": "Исправить слово «{word}»",
  "player.unsure": "{start:fixed2}–{end:fixed2} с · распознано неуверенно ({percent} %): стоит проверить",

  "footer.stored": "После первого скачивания модели хранятся в этом браузере для работы без сети.",
  "footer.clear": "Удалить скачанные модели",
  "footer.embed": "Встроить на свой сайт",

  "widget.file": "Звуковой файл…",
  "widget.loading": "Загрузка распознавания речи…",
  "widget.ready": "Готово ({language}).",
  "widget.readyNotStored": "Готово ({language}), не сохранено для работы без сети.",
  "widget.opening": "Открываю микрофон…",
  "widget.recording": "Запись…",
  "widget.recordingTime": "Запись… {seconds:fixed1} с",
  "widget.transcribing": "Распознавание…",
  "widget.done": "Готово.",

  "size.kilobytes": "{value} кБ",
  "size.megabytes": "{value:fixed1} МБ",
  "size.gigabytes": "{value:fixed1} ГБ",

  "title.notFound": "Файл модели не найден",
  "title.http": "Не удалось скачать",
  "title.network": "Связь прервалась",
  "title.corrupt": "Файл модели повреждён",
  "title.format": "Эту модель нельзя использовать",
  "title.audio": "Этот звук нельзя использовать",
  "title.version": "Версии не совпадают",
  "title.settings": "Настройка вне допустимых пределов",
  "title.aborted": "Остановлено",
  "title.recognizer": "Распознавание не удалось",
  "title.unknown": "Что-то пошло не так",
  "error.retry": "Попробовать снова",

  "error.unreachable": "Не удалось скачать {file}: сервер недоступен. Проверьте подключение и попробуйте снова.",
  "error.notFound": "{file} не найден на сервере (HTTP 404 для {url}).",
  "error.httpStatus": "Не удалось скачать {file}: сервер ответил HTTP {status}.",
  "error.brokeOff":
    "Скачивание {file} прервалось после {loaded:size} из {total:size}. Ничего не сохранено; попробуйте скачать его снова с начала.",
  "error.corrupt":
    "{file} повреждён: он не совпадает с размером и sha256 в model.json даже после повторного скачивания. " +
    "Копия на сервере испорчена или относится к другой модели. Ничего не сохранено.",
  "error.tooLarge":
    "Эта модель слишком велика для браузера: {files:list} занимают {total:size}, а страница WebAssembly вмещает не больше " +
    "{limit:size}. Используйте для неё программу командной строки sakha-asr.",
  "error.otherSite": "model.json указывает на файл с другого сайта ({origin}); отказано.",
  "error.noLanguage": "В этой модели нет языка «{language}»; в ней есть: {available}.",
  "notice.noSpace":
    "Модель не удалось сохранить для работы без сети, поэтому она работает из этого скачивания и в следующий раз скачается снова: " +
    "не хватает места. Для хранения нужно {needed:size}. Освободите место на диске или удалите данные других сайтов.",
  "notice.noSpaceLeft":
    "Модель не удалось сохранить для работы без сети, поэтому она работает из этого скачивания и в следующий раз скачается снова: " +
    "не хватает места. Для хранения нужно {needed:size}, а этот браузер разрешает сайту сохранить ещё только {free:size}. " +
    "Освободите место на диске или удалите данные других сайтов.",
  "notice.refused":
    "Модель не удалось сохранить для работы без сети, поэтому она работает из этого скачивания и в следующий раз скачается снова: " +
    "браузер отказался сохранить {file} («{detail}»). Для хранения нужно {needed:size}. Приватные окна хранят данные в памяти " +
    "и отказываются от больших файлов; в обычном окне модель сохранится.",

  "error.undecodable":
    "Этот браузер не может прочитать файл как звук. Попробуйте WAV, MP3, OGG, FLAC или M4A либо сначала преобразуйте файл.",
  "error.noSamples": "В файле нет звука.",
  "error.mp3Failed": "Этот браузер не смог декодировать файл MP3: {detail}",
  "error.noMicrophoneAccess": "Этот браузер не даёт доступа к микрофону (нужна защищённая страница, https).",
  "error.microphoneDenied": "Запись невозможна: доступ к микрофону запрещён.",
  "error.microphoneNotFound": "Запись невозможна: микрофон не найден.",
  "error.microphoneFailed": "Запись невозможна: {detail}.",
  "error.recordingStopped": "Эта запись уже остановлена или отменена.",
  "error.sampleRate": "sampleRate должен быть целым положительным числом отсчётов в секунду (получено {value}).",
  "error.transcribeInput":
    "transcribe принимает File, Blob, ArrayBuffer звукового файла или Float32Array с отсчётами.",
  "error.noModelAttribute": "Нет модели: укажите в атрибуте model элемента адрес model.json пакета.",

  "error.workerStart": "Распознаватель не смог запуститься: {detail}.",
  "error.threadsStalled": "Потоки многопоточной сборки ({threads}) не запустились за {seconds} с.",
  "error.stopped": "Распознаватель остановлен.",
  "error.noModel": "Модель ещё не загружена.",
  "error.noStream": "Нет открытого потока {stream}: он завершён, закрыт или не был открыт (startStream).",
  "error.unknownRequest": "Неизвестный запрос «{type}».",
  "error.abortedBeforeStart": "Прервано до начала.",
  "error.abortedAfter": "Прервано после {seconds:fixed2} с из {total:fixed2} с звука.",
  "error.crashed":
    "Распознаватель аварийно завершился ({detail}), скорее всего из-за нехватки памяти. Перезагрузите страницу; " +
    "для длинных записей попробуйте файл покороче.",
  "error.versionMismatch":
    "Эта страница и её распознаватель относятся к разным версиям приложения (протокол {page} и {worker}): " +
    "его обновили, пока страница была открыта. Перезагрузите страницу.",
};
