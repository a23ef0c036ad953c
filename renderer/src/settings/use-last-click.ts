import { useRef, useState } from 'react';

/**
 * A setting the owner changes with a click (a checkbox, a set of them): what it shows is the last click, at once,
 * kept until that click's own save is answered — an earlier click's answer arriving meanwhile does not flip it back —
 * and then the saved value: the new one, or the old one when saving failed (the form shows why).
 */
export function useLastClick<T>(saved: T): readonly [shown: T, click: (value: T, save: () => Promise<unknown>) => void] {
  const [clicked, setClicked] = useState<{ readonly value: T }>();
  const lastClick = useRef(0);
  const click = (value: T, save: () => Promise<unknown>) => {
    const id = ++lastClick.current;
    setClicked({ value });
    const answered = () => {
      if (id === lastClick.current) setClicked(undefined);
    };
    void save().then(answered, answered);
  };
  return [clicked === undefined ? saved : clicked.value, click];
}
