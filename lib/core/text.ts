// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

/** Whether text holds a C0 control, DEL or a C1 control: none belongs in a name or a header value. */
export const hasControlCharacters = (text: string): boolean => CONTROL_CHARACTERS.test(text);
