// The size of an element's content box, kept up to date as it changes (a canvas or chart drawn to fit it).
import { useEffect, useState, type RefObject } from 'react';

export function useBoxSize(ref: RefObject<HTMLElement | null>, fallback = { width: 600, height: 300 }): { width: number; height: number } {
  const [size, setSize] = useState(fallback);
  useEffect(() => {
    const box = ref.current;
    if (!box) return;
    const observer = new ResizeObserver(([entry]) => {
      const { width, height } = entry!.contentRect;
      setSize({ width: Math.floor(width), height: Math.floor(height) });
    });
    observer.observe(box);
    return () => observer.disconnect();
  }, [ref]);
  return size;
}
